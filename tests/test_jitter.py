"""The filter stage takes the jitter out of a still pose and keeps up with a fast one.

Real model output throughout: a still real photo (OpenCV's basketball1.png) repeated as a
30 fps video, as is and with camera-like sensor noise, gives the model's own frame-to-frame
wobble; the Sports2D clip gives fast limb movement. benchmarks/jitter_lag.py prints the table.
"""

from pathlib import Path

import cv2
import esper
import numpy as np
import pytest

from posetrack.components import PoseResult
from posetrack.components.character import FilterConfig
from posetrack.retarget.metrics import angular_speeds, lag_frames, limb_directions
from posetrack.stages.sources import ImageFilesSource
from posetrack.systems.filter import PoseFilter
from posetrack.systems.pose_tracking import PoseTrackingSystem

STILL_FRAMES = 45  # 1.5 s at 30 fps
SETTLE_FRAMES = 15  # the tracker's ROI settles on a still shot within ~0.5 s
SENSOR_NOISE = 2.0  # 8-bit levels: a webcam in good light
MIN_JITTER_CUT = 0.60  # the filter must remove >= 60% of the still-pose angular speed
MAX_LAG_FRAMES = 1.0  # and trail a fast movement by at most one 30 fps frame


def _track(source: object) -> list[PoseResult]:
    esper.switch_world("test-jitter")
    tracker = PoseTrackingSystem(source)
    try:
        return list(tracker.results())
    finally:
        tracker.close()
        esper.switch_world("default")
        esper.delete_world("test-jitter")


def _directions(results: list[PoseResult]) -> tuple[list, list]:
    smooth = PoseFilter(FilterConfig())  # the defaults `posetrack track` runs
    raw, filtered = [], []
    for result in results:
        if not result.poses:
            smooth.reset()
            raw.append(None)
            filtered.append(None)
            continue
        names, pose = result.keypoint_names, result.poses[0]
        raw.append(limb_directions(names, pose.world))
        filtered.append(limb_directions(names, smooth(result.time, pose).world))
    return raw, filtered


@pytest.fixture(scope="module")
def basketball1() -> Path:
    from posetrack.downloads.samples import sample_path

    return sample_path("basketball1.png")


@pytest.mark.parametrize("noise", [0.0, SENSOR_NOISE])
def test_filter_cuts_still_pose_jitter(basketball1: Path, tmp_path: Path, noise: float) -> None:
    paths = [basketball1] * STILL_FRAMES
    if noise:
        pixels = cv2.imread(str(basketball1)).astype(np.float64)
        rng = np.random.default_rng(0)
        paths = []
        for i in range(STILL_FRAMES):
            noisy = pixels + rng.normal(0.0, noise, pixels.shape)
            paths.append(tmp_path / f"{i:03d}.png")
            cv2.imwrite(str(paths[-1]), np.clip(noisy, 0, 255).astype(np.uint8))
    # a still photo filmed: the frames of one video, not unrelated stills
    raw, filtered = _directions(_track(ImageFilesSource(paths, "still", 30.0, sequence=True)))
    assert all(r is not None for r in raw), "the person was lost on a still shot"
    raw_speed = angular_speeds(raw[SETTLE_FRAMES:]).mean()
    filtered_speed = angular_speeds(filtered[SETTLE_FRAMES:]).mean()
    cut = 1.0 - filtered_speed / raw_speed
    print(f"noise {noise}: raw {raw_speed:.3f} deg/frame, filtered {filtered_speed:.3f}, "
          f"cut {cut:.0%}")  # fmt: skip
    assert cut >= MIN_JITTER_CUT, (
        f"jitter cut only {cut:.0%} ({raw_speed:.3f} -> {filtered_speed:.3f})"
    )


def test_filter_lags_fast_movement_by_under_a_frame(sports2d_clip: Path) -> None:
    raw, filtered = _directions(_track(str(sports2d_clip)))
    lag = lag_frames(raw, filtered)
    print(f"lag on fast movement: {lag:.2f} frames")
    assert lag <= MAX_LAG_FRAMES
