"""Several people on one frame: PoseNet's multi-person decode (and MoveNet MultiPose) on real
footage, through `posetrack track` as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posetrack.downloads.samples import sample_path
from posetrack.models.skeletons import COCO_17


def track(tmp_path: Path, sample: str, *args: str) -> list[dict]:
    out = tmp_path / "poses.jsonl"
    command = [sys.executable, "-m", "posetrack", "track", str(sample_path(sample))]
    subprocess.run([*command, "--device", "cpu", "--out", str(out), *args], check=True)
    return [json.loads(line) for line in out.read_text().splitlines()]


def centres(frame: dict) -> list[np.ndarray]:
    return [np.array(pose["keypoints"])[:, :2].mean(axis=0) for pose in frame["poses"]]


@pytest.mark.parametrize("model", ["posenet", "movenet-multipose"])
def test_both_players_in_basketball2_are_found(tmp_path: Path, model: str) -> None:
    header, frame, _ = track(tmp_path, "basketball2.png", "--model", model)
    assert header["keypoints"] == list(COCO_17)
    assert len(frame["poses"]) == 2
    xs = sorted(c[0] for c in centres(frame))
    assert xs[0] < 200 and xs[1] > 400  # one player each side of the 640 px frame


def test_the_jumper_and_the_passer_by_in_the_sports2d_clip(tmp_path: Path) -> None:
    """Frames 70-115: one person on the roof (top of the frame), one walking below it."""
    lines = track(tmp_path, "sports2d-demo.mp4", "--model", "posenet", "--max-frames", "116")
    frames = [line for line in lines if line["type"] == "frame"][70:]
    both = sum(
        any(y < 400 for _, y in centres(f)) and any(y > 600 for _, y in centres(f)) for f in frames
    )
    print(f"both people found on {both} of {len(frames)} frames")
    assert both >= 0.75 * len(frames)
