"""benchmarks/device_run.sh carries what the GPU check needs to the device machine in parts,
one call each, and joins them in the last call. The carrying and joining run here on a small
bundle cut the way `prepare` cuts the real one: each call's part is kept, what is missing is
named, a lost or damaged part stops the check with one line."""

import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "device_run.sh"
PART = 4096  # bytes: small parts, so the bundle below needs several


@pytest.fixture
def bundle(tmp_path: Path) -> tuple[Path, list[Path], dict[str, bytes]]:
    """(stage folder, parts, {member: bytes}): a bundle shaped like prepare's, cut in parts."""
    stage = tmp_path / "stage"
    files = {
        "whl/esper-3.9-py3-none-any.whl": os.urandom(5000),
        "gl/libegl1_1.6.0-1_amd64.deb": os.urandom(3000),
        "cache/models/blazepose-full-e9a5c5cb17f736fa-c1.onnx": os.urandom(6000),
        "cache/samples/messi5.jpg": os.urandom(1000),
    }
    for name, data in files.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_bytes(data)
    tar = tmp_path / "bundle.tar"
    with tarfile.open(tar, "w") as archive:
        for top in ("whl", "gl", "cache"):
            archive.add(stage / top, arcname=top)
    data = tar.read_bytes()
    parts = []
    for index in range(0, len(data), PART):
        part = tmp_path / "parts" / f"part-{index // PART:02d}"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(data[index : index + PART])
        parts.append(part)
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in parts)
    (tmp_path / "parts" / "SHA256SUMS").write_text(sums)
    return stage, parts, files


def call(tmp_path: Path, parts: list[Path], *args: str) -> subprocess.CompletedProcess:
    """One device call: a fresh copy of the repository carrying `parts` and the sums."""
    repo = tmp_path / "call"
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "benchmarks").mkdir(parents=True)
    (repo / ".device").mkdir()
    shutil.copy(SCRIPT, repo / "benchmarks")
    shutil.copy(tmp_path / "parts" / "SHA256SUMS", repo / ".device")
    for part in parts:
        shutil.copy(part, repo / ".device")
    env = dict(os.environ, POSETRACK_DEVICE_STASH=str(tmp_path / "stash"),
               OUT=str(tmp_path / "out"))  # fmt: skip
    return subprocess.run(["bash", "benchmarks/device_run.sh", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_parts_carried_one_call_each_are_joined_into_the_bundle(
    tmp_path: Path, bundle: tuple[Path, list[Path], dict[str, bytes]]
) -> None:
    _, parts, files = bundle
    assert len(parts) >= 3
    for index, part in enumerate(parts[:-1]):
        result = call(tmp_path, [part], "stash")
        assert result.returncode == 0, result.stderr
        still = " ".join(p.name for p in parts[index + 1 :])
        assert f"missing: {still}" in result.stdout
    result = call(tmp_path, [parts[-1]], "check", "--unpack-only")
    assert result.returncode == 0, result.stderr
    assert "missing: \n" in result.stdout  # none
    joined = tmp_path / "stash" / "bundle"
    for name, data in files.items():
        assert (joined / name).read_bytes() == data, name


def test_a_lost_or_damaged_part_stops_the_check_with_one_line(
    tmp_path: Path, bundle: tuple[Path, list[Path], dict[str, bytes]]
) -> None:
    _, parts, _ = bundle
    # a fresh machine: the earlier calls' parts are gone
    result = call(tmp_path, [parts[-1]], "check", "--unpack-only")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "parts missing: carry them first (a fresh machine has lost earlier ones)"
    ]
    # every part there, one of them damaged on the way
    parts[1].write_bytes(b"x" + parts[1].read_bytes()[1:])
    result = call(tmp_path, parts, "check", "--unpack-only")
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
    assert not (tmp_path / "stash" / "bundle").exists()


def test_no_verb_is_a_usage_line() -> None:
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and result.stderr.startswith("usage: ")
