"""The tracker's venv is exactly the lock: one OpenCV, every pin as locked, pyproject satisfied.

A fresh clone must test what CI tested, not what a resolver picked that day (a second OpenCV
distribution once landed over the first and changed the crops under test).
"""

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements" / "dev.txt"
# every distribution that installs a top-level cv2 package
OPENCV_DISTRIBUTIONS = {
    "opencv-python", "opencv-python-headless",
    "opencv-contrib-python", "opencv-contrib-python-headless",
}  # fmt: skip


def _installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def _locked() -> dict[str, str]:
    """name -> version for the lock's pins whose markers hold on this interpreter."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        if not line or line[0] in " #-":
            continue
        spec, _, marker = line.removesuffix("\\").partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, _, version = spec.strip().partition("==")
        pins[canonicalize_name(name)] = version
    return pins


def test_the_venv_has_exactly_one_opencv_distribution() -> None:
    found = sorted(name for name in _installed() if name in OPENCV_DISTRIBUTIONS)
    assert found == ["opencv-python-headless"], f"OpenCV distributions in {sys.prefix}: {found}"


def test_every_locked_package_is_installed_at_its_pinned_version() -> None:
    installed = _installed()
    wrong = {
        name: (version, installed.get(name))
        for name, version in _locked().items()
        if installed.get(name) != version
    }
    assert not wrong, f"not as locked (pin, installed): {wrong}; run `make setup`"


def test_the_lock_satisfies_pyproject_and_its_dev_extra() -> None:
    """`make lock` after editing pyproject.toml: a range the lock misses fails here."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    locked = _locked()
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        version = locked.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in {LOCK.name}"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{LOCK.name} pins {requirement.name}=={version}, pyproject asks {requirement}"
        )
