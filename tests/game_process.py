"""Run a Panda3D game in a subprocess for a test, with a guard against one known hang.

Seen 3 times in about 90 offscreen runs on Mesa llvmpipe in an earlier session: the game's main
thread stayed inside llvmpipe's draw (GLGraphicsStateGuardian::draw_triangles -> swrast_dri.so,
py-spy) and never finished its frames. Looked for since with benchmarks/game_hang_loop.py: 0
hangs in 660 runs (default settings, a cold shader cache, 4 games at once on 2 cores,
LP_NUM_THREADS=0), so the cause is still unknown, and a healthy frame shows the same stack
mid-draw. Until it is caught, a run that outlasts its limit has the stacks of all its threads
saved (gdb: the one thing that tells a deadlock from a starved frame), is killed and is run
once more, loudly (a warning naming the saved stacks); a second hang fails the test.
"""

import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

HANG_LIMIT_S = 150  # 10x the slowest normal run seen here (demo, 60 frames, loaded machine)
GDB_TIMEOUT_S = 60  # attaching and walking ~20 threads takes a few seconds


def run_game(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    try:
        return _run(command, **kwargs)
    except subprocess.TimeoutExpired as hang:
        warnings.warn(
            f"game hung for {HANG_LIMIT_S} s (the known llvmpipe draw hang; every thread's "
            f"stacks: {hang.stacks}): running it once more: {' '.join(command)}",
            RuntimeWarning,
            stacklevel=2,
        )
        return _run(command, **kwargs)


def _run(command: list[str], capture_output: bool, text: bool, **kwargs: Any):
    pipe = subprocess.PIPE if capture_output else None
    with subprocess.Popen(command, stdout=pipe, stderr=pipe, text=text, **kwargs) as game:
        try:
            out, err = game.communicate(timeout=HANG_LIMIT_S)
        except subprocess.TimeoutExpired as hang:
            hang.stacks = _save_stacks(game.pid)
            game.kill()
            game.communicate()
            raise hang
    return subprocess.CompletedProcess(command, game.returncode, out, err)


def _save_stacks(pid: int) -> str:
    """Every thread's native stack of a hung game (gdb batch), saved; returns where."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return "not saved: gdb is not installed"
    out = Path(tempfile.mkdtemp(prefix="posetrack-hang-")) / "gdb.txt"
    command = [gdb, "-batch", "-nx", "-p", str(pid), "-ex", "set pagination off",
               "-ex", "info threads", "-ex", "thread apply all bt"]  # fmt: skip
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=GDB_TIMEOUT_S)
        out.write_text(run.stdout + "\n--- stderr ---\n" + run.stderr)
    except (OSError, subprocess.TimeoutExpired) as error:
        out.write_text(f"gdb failed: {error}\n")
    return str(out)
