"""Left/right swap correction (posetrack/stages/swaps.py) on real tracking of real footage.

Pose2Sim's four calibrated views (tests/multiview.py) are the ground truth: a view whose limb
labels fit the body the views agree on better exchanged is a swap. blazepose-full swaps one
view's arms and legs for a run of frames inside the first 70; the correction must undo it.
"""

import numpy as np
from multiview import (  # tests/ is on sys.path under pytest
    body_3d,
    count_swaps,
    reprojection_errors,
)
from multiview_tracks import calibration, tracked_views  # tests/ is on sys.path

from posetrack.components import PoseEstimate, PoseResult
from posetrack.stages.swaps import PARTS, SwapGuard, exchange, pair_rows

FRAMES = 70  # holds blazepose-full's longest swap run on the clip (cam02, frames 41-66)
MODEL = "blazepose-full"


def _results(view, frames: range, fps: float = 60.0) -> list[PoseResult]:
    return [
        PoseResult(f, f / fps, view.names, [PoseEstimate(view.keypoints[f].copy(), 1.0,
                                                         view.world[f].copy())])
        for f in frames
    ]  # fmt: skip


def test_an_injected_swap_is_detected_and_undone() -> None:
    """cam01 has no swaps; exchanging its legs on frames 15-24 (and the whole body on 30-34)
    of the real tracked sequence must come back out as the model gave them."""
    view = tracked_views(MODEL, FRAMES, False)[0]
    original = _results(view, range(45))
    legs = pair_rows(view.names, PARTS["legs"])
    sides = [pair_rows(view.names, joints) for joints in PARTS.values()]
    every = [np.concatenate([s[0] for s in sides]), np.concatenate([s[1] for s in sides])]
    injected = []
    for result in original:
        pose = result.poses[0]
        if 15 <= result.frame < 25:
            pose = exchange(pose, *legs)
        elif 30 <= result.frame < 35:
            pose = exchange(pose, *every)
        injected.append(PoseResult(result.frame, result.time, result.keypoint_names, [pose]))
    guard = SwapGuard(view.names)
    out = [guard(result) for result in injected]
    for before, after in zip(original, out, strict=True):
        if 30 <= before.frame < 35:  # the face too may be exchanged: compare the limbs
            rows = np.concatenate(every)
            np.testing.assert_array_equal(after.poses[0].keypoints[rows],
                                          before.poses[0].keypoints[rows])  # fmt: skip
        else:
            np.testing.assert_array_equal(after.poses[0].keypoints, before.poses[0].keypoints)
            np.testing.assert_array_equal(after.poses[0].world, before.poses[0].world)
    assert guard.corrected == {"arms": 5, "legs": 15}


def test_the_correction_removes_swaps_on_the_four_views() -> None:
    cameras = list(calibration())
    raw = list(tracked_views(MODEL, FRAMES, False))
    fixed = list(tracked_views(MODEL, FRAMES, True))
    before, after = count_swaps(cameras, raw), count_swaps(cameras, fixed)
    err_before = reprojection_errors(cameras, raw, body_3d(cameras, raw))
    err_after = reprojection_errors(cameras, fixed, body_3d(cameras, fixed))
    print(f"swap frames per view (arms+legs): before {before.sum(axis=(1, 2))}, "
          f"after {after.sum(axis=(1, 2))}; reprojection median/mean px: before "
          f"{np.nanmedian(err_before):.1f}/{np.nanmean(err_before):.1f}, after "
          f"{np.nanmedian(err_after):.1f}/{np.nanmean(err_after):.1f}")  # fmt: skip
    assert before.sum() >= 20, "the clip was expected to hold a swap run for the model"
    assert after.sum() <= before.sum() // 3
    assert all(after[v].sum() <= before[v].sum() for v in range(len(raw)))
    assert np.nanmean(err_after) < np.nanmean(err_before)
