"""examples/my_game.py, a minimal host game, runs offscreen on the real Sports2D clip: it exits
cleanly after N frames and the tracked pose moved its character."""

import os
import re
import sys
from pathlib import Path

from game_process import run_game

from posetrack.stages.gpu_context import HEADLESS_PRC

GAME = Path(__file__).resolve().parent.parent / "examples" / "my_game.py"
# 1.5 s of a 60 Hz game: the clip plays at its own 30 fps beside it (the live hand-over), and
# the person is in view from the clip's first frames: most of these frames show a tracked pose
FRAMES = 90
GAME_HZ = 60  # offscreen has no vsync: a clock limited to a display's rate stands in for one


def test_my_game_runs_offscreen_and_the_pose_moves_its_character(
    sports2d_clip: Path, tmp_path: Path
) -> None:
    # the game is unchanged: PRC comes from a folder named by PANDA_PRC_PATH, as it would for
    # any Panda3D game; posetrack-device comes from PRC the same way
    clock = f"clock-mode limited\nclock-frame-rate {GAME_HZ}\n"
    (tmp_path / "offscreen.prc").write_text(HEADLESS_PRC + clock + "posetrack-device cpu\n")
    env = dict(os.environ, PANDA_PRC_PATH=str(tmp_path), EGL_PLATFORM="surfaceless")
    # sports2d_clip: fetched here, so the game's `sample:` finds it in the cache
    command = [sys.executable, str(GAME), "--source", "sample:sports2d-demo.mp4"]
    run = run_game([*command, "--frames", str(FRAMES)], env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    line = re.search(r"my_game: frames=(\d+) tracked=(\d+) hand_moved_m=([\d.]+) status=(\w+)",
                     run.stdout)  # fmt: skip
    assert line, run.stdout[-3000:] + run.stderr[-3000:]
    frames, tracked, moved, status = int(line[1]), int(line[2]), float(line[3]), line[4]
    assert frames == FRAMES
    assert tracked >= FRAMES // 2 and status == "tracking"
    # the mannequin's left hand travelled: the pose reached its joints (arms start at rest)
    assert moved > 0.2
