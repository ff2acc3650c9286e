"""benchmarks/gpu_check.py, the one-command GPU check, runs on this machine and prints its whole
report: measured rows for the paths that run here, "not available" and why for the others (on a
machine without an NVIDIA GPU: the CUDA rows). The device machine runs the same script
(benchmarks/device_run.sh), so this is also the test of what would run there."""

import os
import re
import subprocess
import sys
from pathlib import Path

from posetrack.models import zoo
from posetrack.models.runtime import cuda_problem

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"
PATHS_IN_ORDER = ["cpu", "gl", "cuda", "gl+cuda"]
PATHS = set(PATHS_IN_ORDER)
STAGES = ["capture", "detect", "preprocess", "inference", "decode"]


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def section(out: str, title: str) -> list[list[str]]:
    """The table rows (cells) under the heading that starts with `title`, header included."""
    body = out.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    return [cells(line) for line in body.splitlines() if line.startswith("| ")]


def test_the_gpu_check_prints_every_row_measured_or_marked_not_available() -> None:
    env = dict(os.environ, EGL_PLATFORM="surfaceless")
    result = subprocess.run([sys.executable, str(SCRIPT), "--frames", "3", "--warmup", "1"],
                            capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    problem = cuda_problem()
    na = f"not available ({problem})"
    assert re.search(r"^GL renderer: \S", out, re.M), out
    assert re.search(r"^NVIDIA GPU: \S", out, re.M) and re.search(r"^date: 20\d\d-", out, re.M)
    assert "ONNX Runtime" in out and "CPUExecutionProvider" in out
    assert re.search(
        r"^CUDA: usable$" if problem is None else f"^CUDA: {re.escape(na)}$", out, re.M
    )

    # parity: the same crop to within one grey level, the same decode to 1e-3 crop px
    head, *parity = section(out, "GPU vs CPU parity")
    assert len(head) == 4 and "CUDA vs CPU" in head[3]
    assert [row[0] for row in parity] == ["messi5.jpg", "basketball1.png", "basketball2.png"]
    for name, crop, decode, cuda in parity:
        assert float(crop) <= 1.0 and float(decode) < 1e-3, name
        assert cuda == na if problem else float(cuda) < 0.05, (name, cuda)

    head, *binding = section(out, "ONNX Runtime alone")
    assert head[:3] == ["provider", "model", "plain ms"]
    rows = {row[0]: row for row in binding}
    assert set(rows) == {"cpu", "cuda"} and float(rows["cpu"][2]) > 0
    assert rows["cpu"][4] != "-"  # the in-place variant runs on the CPU provider
    assert (rows["cuda"][-1] == na) if problem else float(rows["cuda"][3]) > 0

    head, *tracked = section(out, "Tracking sports2d-demo.mp4 (1768 x 994)")
    assert head == ["path", "model", *(f"{s} ms" for s in STAGES), "bytes up/frame",
                    "bytes down/frame", "frames/s"]  # fmt: skip
    models = ["blazepose-full", *(n for n in zoo.names()
              if n not in ("pose-detector", "blazepose-full") and zoo.cached_onnx(n))]  # fmt: skip
    assert [(r[0], r[1]) for r in tracked] == [(p, m) for m in models for p in PATHS_IN_ORDER]
    measured = {"cpu", "gl"} if problem else PATHS
    for row in tracked:
        assert len(row) == len(head), row
        if row[0] in measured:
            assert float(row[-1]) > 0, row
            up, down = int(row[-3]), int(row[-2])
            # the GL path moves bytes (frame up, crop down); the CPU path none
            assert (up > 0 and down > 0) if row[0] != "cpu" else (up == down == 0), row
        else:
            assert row[-1] == na and set(row[2:-1]) == {"-"}, row

    head, *targets = section(out, "Targets")
    assert "## Targets (issue 13), BlazePose full on sports2d-demo.mp4 (1768 x 994)" in out
    assert "<= 2" in head[1] and "<= 528" in head[2]
    assert [row[0] for row in targets] == [p for p in PATHS_IN_ORDER if p in measured]
    gl = next(row for row in targets if row[0] == "gl")
    assert re.fullmatch(r"[\d.]+ \((met|not met)\)", gl[1]) and int(gl[2]) > 0


def test_a_bad_option_is_one_line_and_an_exit_code(tmp_path: Path) -> None:
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    for args, message in (
        (["--frames", "0"], "--frames must be at least 1"),
        (["--clip", str(not_video)], "not a video that OpenCV can read"),
        (["--clip", "no-such-sample.mp4"], "--clip no-such-sample.mp4: "),
    ):
        result = subprocess.run([sys.executable, str(SCRIPT), *args],
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
