"""Regenerate docs/images/demo-two-players.png: `posetrack-demo --players 2`, offscreen, on
Pose2Sim's two-person clip cam03 (the woman on the left is player 1, the man player 2).

    .venv/bin/python docs/figures_two_players.py

The camera picture-in-picture is switched off (key P): the screenshot shows only what the
demo draws (characters, targets, HUD), none of the clip's frames.
"""

import os
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).parent / "images" / "demo-two-players.png"
CLIP = "sample:pose2sim-multi-cam03.mp4"
# 260 frames: the clip's 100 frames played 2.6 times; the round is well under way (targets
# touched on both sides) and the two stand apart, each character in its own pose
FRAMES = 260


def main() -> None:
    env = {**os.environ, "EGL_PLATFORM": os.environ.get("EGL_PLATFORM", "surfaceless")}
    demo = [sys.executable, "-m", "posetrack.game"]
    subprocess.run([*demo, "--players", "2", "--offscreen", "--frames", str(FRAMES),
                    "--source", CLIP, "--press", "p", "--screenshot", str(OUT)],
                   check=True, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
