"""Fetching from registry packages fails with a clear message, never a wrong file."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from posetrack.downloads.fetch import FetchError, fetch_files, sha256_of
from posetrack.downloads.samples import SAMPLES, sample_path
from posetrack.models import zoo

CLIP = SAMPLES["sports2d-demo.mp4"]


def test_a_download_with_the_wrong_hash_is_refused_and_not_kept(tmp_path: Path) -> None:
    wrong = dataclasses.replace(CLIP, sha256="0" * 64)
    with pytest.raises(FetchError, match="corrupt or the package changed"):
        fetch_files({"clip.mp4": wrong}, tmp_path)
    assert not (tmp_path / "clip.mp4").exists()
    assert not list(tmp_path.glob("*.part"))


def test_a_member_missing_from_the_package_is_named(tmp_path: Path) -> None:
    missing = dataclasses.replace(CLIP, member="Sports2D/Demo/nothing.mp4")
    with pytest.raises(FetchError, match="holds no Sports2D/Demo/nothing.mp4"):
        fetch_files({"nothing.mp4": missing}, tmp_path)


def test_offline_download_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no index and no local wheels: what pip sees on a machine with no network
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    with pytest.raises(FetchError, match="offline, registry unreachable") as error:
        fetch_files({"clip.mp4": CLIP}, tmp_path / "out")
    assert "sports2d==0.8.34" in str(error.value)


def test_cached_files_are_reused_without_downloading(monkeypatch: pytest.MonkeyPatch) -> None:
    path = sample_path("sports2d-demo.mp4")
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # a download would now fail
    assert sample_path("sports2d-demo.mp4") == path
    assert sha256_of(path) == CLIP.sha256


def test_a_corrupt_cached_model_gives_a_clear_cli_error(tmp_path: Path) -> None:
    """A damaged ONNX file in the cache: one line saying what to do, exit 2, no traceback."""
    cache = tmp_path / "cache"
    good = zoo.onnx_path("pose-detector")
    broken = cache / "models" / good.name
    broken.parent.mkdir(parents=True)
    broken.write_bytes(good.read_bytes()[:5000])
    full = zoo.onnx_path("blazepose-full")
    (cache / "models" / full.name).write_bytes(full.read_bytes())
    image = sample_path("messi5.jpg")
    run = subprocess.run(
        [sys.executable, "-m", "posetrack", "track", str(image), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env={"POSETRACK_CACHE": str(cache), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 2
    assert "is not a loadable ONNX model" in run.stderr
    assert "posetrack models fetch" in run.stderr
    assert "Traceback" not in run.stderr
