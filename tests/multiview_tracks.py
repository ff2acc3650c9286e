"""The four calibrated views tracked for tests, once per test session (tests/multiview.py has
the calibration, triangulation and metrics)."""

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

import esper
import numpy as np
from multiview import BODY, Camera, ViewTrack, load_qca, read_stream

from posetrack.components import TrackingConfig
from posetrack.downloads.samples import sample_path
from posetrack.systems.pose_tracking import PoseTrackingSystem

SINGLE = tuple(f"pose2sim-single-cam0{i}.mp4" for i in (1, 2, 3, 4))


@functools.cache
def calibration() -> tuple[Camera, ...]:
    """The four cameras of the Pose2Sim clips."""
    return tuple(load_qca(sample_path("pose2sim-calib.qca.txt")))


@functools.cache
def tracked_views(model: str, frames: int, fix_swaps: bool) -> tuple[ViewTrack, ...]:
    """The four single-person views' first `frames` frames through the tracker (no filter:
    the model's answers, swap-corrected or not), once per test session."""
    views = []
    for name in SINGLE:
        config = TrackingConfig(model=model, preprocess="cpu", decode="cpu", fix_swaps=fix_swaps)
        previous = esper.current_world
        esper.switch_world("multiview-tracking")
        try:
            tracker = PoseTrackingSystem(str(sample_path(name)), config)
            try:
                results = list(tracker.results(frames))
            finally:
                tracker.close()
        finally:
            esper.switch_world(previous)
            esper.delete_world("multiview-tracking")
        views.append(_from_results(results, tracker.keypoint_names))
    return tuple(views)


@functools.cache
def character_views(frames: int, *extra: str) -> tuple[ViewTrack, ...]:
    """The four views through `posetrack track --character mannequin` (smoothing on, the
    corrections as `extra` says), first `frames` frames, once per test session."""
    folder = Path(tempfile.mkdtemp(prefix="multiview-"))
    script = Path(sys.executable).with_name("posetrack")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "posetrack"]
    views = []
    for name in SINGLE:
        out = folder / f"{Path(name).stem}.jsonl"
        done = subprocess.run(
            [*command, "track", str(sample_path(name)), "--out", str(out), "--character",
             "mannequin", "--max-frames", str(frames), *extra],
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        views.append(read_stream(out))
    return tuple(views)


def _from_results(results: list, names: tuple[str, ...]) -> ViewTrack:
    count = len(results)
    keypoints = np.full((count, len(names), 3), np.nan)
    world = np.full((count, len(names), 3), np.nan)
    for i, result in enumerate(results):
        if result.poses:
            keypoints[i] = result.poses[0].keypoints
            if result.poses[0].world is not None:
                world[i] = result.poses[0].world
    character = np.full((count, len(BODY), 3), np.nan)
    return ViewTrack({"keypoints": list(names)}, keypoints, world, character, tuple(names))
