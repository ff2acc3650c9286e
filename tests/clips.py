"""Short clips cut from the real footage for tests that want a few seconds, not the whole clip."""

from pathlib import Path

import cv2


def cut_clip(source: Path, out: Path, start: int, frames: int, shrink: int = 1) -> Path:
    """Frames start .. start + frames - 1 of `source`, each side divided by `shrink`, written
    to `out` as 30 fps MPEG-4 part 2 (what OpenCV writes everywhere)."""
    reader = cv2.VideoCapture(str(source))
    reader.set(cv2.CAP_PROP_POS_FRAMES, start)
    writer = None
    try:
        for _ in range(frames):
            ok, frame = reader.read()
            assert ok, f"{source} ended before frame {start + frames - 1}"
            if shrink > 1:
                frame = cv2.resize(frame, (frame.shape[1] // shrink, frame.shape[0] // shrink))
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
            writer.write(frame)
    finally:
        reader.release()
        if writer is not None:
            writer.release()
    return out
