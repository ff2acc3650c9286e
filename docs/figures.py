"""Regenerate the overlay figures in docs/images with the `posetrack` command itself.

.venv/bin/python docs/figures.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

IMAGES = Path(__file__).parent / "images"
POSETRACK = [sys.executable, "-m", "posetrack"]
CLIP_FRAME = 120  # mid-jump: arms up, knees bent


# the model the committed images were made with (auto would pick by machine)
MODEL = ("--model", "blazepose-full")


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    messi = IMAGES / "messi5-overlay.jpg"
    subprocess.run([*POSETRACK, "track", "sample:messi5.jpg", "--out", "/dev/null", *MODEL,
                    "--overlay", str(messi)], check=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "clip.mp4"
        subprocess.run([*POSETRACK, "track", "sample:sports2d-demo.mp4", "--out", "/dev/null",
                        *MODEL, "--max-frames", str(CLIP_FRAME + 1), "--overlay", str(video)],
                       check=True)  # fmt: skip
        capture = cv2.VideoCapture(str(video))
        capture.set(cv2.CAP_PROP_POS_FRAMES, CLIP_FRAME)
        ok, frame = capture.read()
        capture.release()
    if not ok:
        sys.exit(f"could not read frame {CLIP_FRAME} of the overlay video")
    half = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), cv2.INTER_AREA)
    cv2.imwrite(str(IMAGES / f"sports2d-frame{CLIP_FRAME}-overlay.jpg"), half)
    print(f"wrote {messi} and sports2d-frame{CLIP_FRAME}-overlay.jpg")


if __name__ == "__main__":
    main()
