"""benchmarks/gpu_check.py, the one-command GPU check, runs on this machine and prints its whole
table: measured rows for the paths that run here, "not available" and why for the others (on a
machine without an NVIDIA GPU: the CUDA rows). The device machine runs the same script."""

import os
import re
import subprocess
import sys
from pathlib import Path

from posetrack.models.runtime import cuda_problem

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"


def test_the_gpu_check_prints_every_row_measured_or_marked_not_available() -> None:
    env = dict(os.environ, EGL_PLATFORM="surfaceless")
    result = subprocess.run([sys.executable, str(SCRIPT), "--frames", "3", "--warmup", "1"],
                            capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^GL renderer: \S", out, re.M), out
    assert "ONNX Runtime" in out and "CPUExecutionProvider" in out
    # parity: the same crop to within one grey level, the same decode to 1e-3 crop px
    parity = re.findall(r"^\| (\S+\.(?:jpg|png)) \| ([\d.]+) \| ([\d.e+-]+) \|$", out, re.M)
    assert {name for name, _, _ in parity} == {"messi5.jpg", "basketball1.png", "basketball2.png"}
    for name, crop, decode in parity:
        assert float(crop) <= 1.0 and float(decode) < 1e-3, name
    rows = dict(re.findall(r"^\| (cpu|gl|cuda|gl\+cuda) \| (.*)$", out, re.M))
    assert set(rows) == {"cpu", "gl", "cuda", "gl+cuda"}, out
    measured = {"cpu", "gl"} if cuda_problem() else set(rows)
    for path, cells in rows.items():
        if path in measured:
            fps = float(cells.rstrip(" |").split("|")[-1])
            assert fps > 0, (path, cells)
        else:
            assert f"not available ({cuda_problem()})" in cells, (path, cells)
    gl_cells = [c.strip() for c in rows["gl"].split("|")]
    assert int(gl_cells[-4]) > 0 and int(gl_cells[-3]) > 0  # the GL path moves bytes; cpu none
