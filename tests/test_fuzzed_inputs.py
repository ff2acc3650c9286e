"""Property-style fuzzing where it is cheap: random bytes as a video, an image, a scene and a
model, and random argument lists from the command's real option set. Every case ends in a clear
error or a clean run: a PosetrackError / exit code 1 or 2 with one line, never another exception,
and a user's existing output file is never changed by a run that failed. Seeded: each run tries
the same cases, and a failure names its case. "One line" is what posetrack writes; libjpeg
also prints its own complaints straight to file descriptor 2, which a library must not silence
in a host game's process (FFmpeg's are off in our own commands: cli/guard.py)."""

import argparse
import random
from pathlib import Path

import pytest

from posetrack.cli.main import build_parser, main
from posetrack.errors import PosetrackError
from posetrack.models.runtime import OrtModel
from posetrack.scene import load_scene, validate_scene

CASES = 12  # per kind of file; each is a fresh random blob
ARG_LISTS = 40  # random `posetrack track` command lines


def _blob(rng: random.Random, looks_like: bytes = b"") -> bytes:
    """Random bytes, sometimes behind a real file signature (so parsers go further in)."""
    body = rng.randbytes(rng.choice([0, 1, 17, 512, 4096, 65536]))
    return (looks_like if rng.random() < 0.5 else b"") + body


def _exit_code(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the command in-process: its exit code and what it said on stderr."""
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own exit for a bad option
        code = stop.code if isinstance(stop.code, int) else 1
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("suffix", "signature"),
    [(".mp4", b"\x00\x00\x00\x18ftypmp42"), (".jpg", b"\xff\xd8\xff\xe0"), (".png", b"\x89PNG")],
)
def test_random_bytes_as_a_video_or_an_image(
    suffix: str,
    signature: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    rng = random.Random(f"media{suffix}")
    keep = tmp_path / "keep.jsonl"
    for case in range(CASES):
        source = tmp_path / f"random{case}{suffix}"
        source.write_bytes(_blob(rng, signature))
        keep.write_text("mine\n")
        code, err = _exit_code(["track", str(source), "--out", str(keep)], capsys)
        assert code == 2, (case, err)
        assert len(err.strip().splitlines()) == 1 and "error" in err, (case, err)
        assert keep.read_text() == "mine\n", case


def test_random_bytes_as_a_scene_file(tmp_path: Path) -> None:
    rng = random.Random("scene")
    tomlish = b'[[entity]]\nname = "x"\n'
    for case in range(CASES * 2):
        scene = tmp_path / f"random{case}.toml"
        scene.write_bytes(_blob(rng, tomlish))
        problems = validate_scene(scene)  # never raises: problems with file, line and why
        assert all(p.file and p.line >= 1 and p.message for p in problems), case
        if not problems:  # the random tail happened to be empty: a good scene loads
            assert load_scene(scene).entities, case


def test_random_bytes_as_a_model_file(tmp_path: Path) -> None:
    rng = random.Random("model")
    for case in range(CASES):
        model = tmp_path / f"random{case}.onnx"
        model.write_bytes(_blob(rng, b"\x08\x07\x12\x07pytorch"))
        with pytest.raises(PosetrackError) as caught:
            OrtModel(model, "cpu").close()
        assert str(caught.value) and "\n" not in str(caught.value).strip(), case


def _track_options() -> list[argparse.Action]:
    commands = next(a for a in build_parser()._actions if a.choices)  # noqa: SLF001
    return [a for a in commands.choices["track"]._actions if a.option_strings and a.dest != "help"]


def _value(rng: random.Random, action: argparse.Action, files: dict[str, Path]) -> list[str]:
    if action.nargs == 0:  # a switch
        return [action.option_strings[0]]
    pool = [*(action.choices or []), "0", "-1", "7", "abc", "", "webcam:9", str(files["out"]),
            str(files["image"]), str(files["missing"] / "x.mp4"), "x" * 300]  # fmt: skip
    return [action.option_strings[0], rng.choice(pool)]


def test_random_command_lines_from_the_real_options(
    messi_image: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flags drawn from `posetrack track`'s own options with good and bad values, on a real
    photo (so some lines run for real): each ends in exit 0, 1 or 2 with no other exception,
    and the existing --out file changes only when the run succeeded."""
    monkeypatch.chdir(tmp_path)  # a value like "-1" may name an output: it lands here
    rng = random.Random("argv")
    files = {"image": messi_image, "out": tmp_path / "out.jsonl", "missing": tmp_path / "no"}
    options = _track_options()
    codes: dict[int, int] = {}
    for case in range(ARG_LISTS):
        argv = ["track", str(messi_image)]
        for action in rng.sample(options, rng.randint(1, 4)):
            argv += _value(rng, action, files)
        files["out"].write_text("mine\n")
        code, err = _exit_code(argv, capsys)
        codes[code] = codes.get(code, 0) + 1
        assert code in (0, 1, 2), (case, argv, err)
        assert "Traceback" not in err, (case, argv, err)
        if code != 0:
            assert files["out"].read_text() == "mine\n", (case, argv)
    print(f"{ARG_LISTS} command lines: exit codes {codes}")
    assert codes.get(2, 0) and codes.get(0, 0), codes  # both kinds were exercised
