"""FilterSystem: One Euro per coordinate from the frames' own times, visibility low-pass,
reset on loss, a pass-through mode. Synthetic poses isolate the stage (the real-footage figures
are in test_jitter.py)."""

import esper
import numpy as np
import pytest

from posetrack.components import PoseEstimate, PoseResult
from posetrack.components.character import FilterConfig, FilteredPose
from posetrack.systems.filter import FilterSystem, describe, filtered_result

NAMES = ("a", "b", "c")


@pytest.fixture
def world():
    esper.switch_world("test-filter-system")
    yield
    esper.switch_world("default")
    esper.delete_world("test-filter-system")


def _pose(x: float, visibility: float = 1.0, spread: float = 400.0) -> PoseEstimate:
    kp = np.array([[x, 0, visibility], [x + spread, 0, visibility], [x, spread, visibility]])
    return PoseEstimate(kp, 0.9, kp[:, :3] / 1000.0)


def _run(system: FilterSystem, ent: int, frame: int, time: float, poses: list) -> FilteredPose:
    esper.add_component(ent, PoseResult(frame, time, NAMES, poses))
    system.process()
    return esper.component_for_entity(ent, FilteredPose)


def test_noise_is_smoothed_and_visibility_low_passed(world) -> None:
    ent, system = esper.create_entity(), FilterSystem()
    rng = np.random.default_rng(1)
    xs = 500 + rng.normal(0, 1.0, 60)  # a still person 400 px tall, 1 px of jitter
    out = [
        _run(system, ent, i, i / 30, [_pose(x, 0.9)]).pose.keypoints[0, 0] for i, x in enumerate(xs)
    ]
    assert np.std(np.diff(out[10:])) < 0.3 * np.std(np.diff(xs[10:]))
    first = _run(system, ent, 60, 2.0, [_pose(500, 0.0)]).pose.keypoints[0, 2]
    assert first == pytest.approx(0.1 * 0.0 + 0.9 * 0.9)  # alpha 0.1: one dip barely shows


def test_time_steps_come_from_the_frames(world) -> None:
    """The same ramp at 15 and 30 fps trails by about the same time, not the same frames."""
    lags = []
    for fps in (15.0, 30.0):
        ent, system = esper.create_entity(), FilterSystem(FilterConfig(beta=0.0, min_cutoff=1.0))
        for i in range(int(2 * fps)):
            got = _run(system, ent, i, (i + 1) / fps, [_pose(100.0 * (i + 1) / fps)])
        lags.append((100.0 * 2 - got.pose.keypoints[0, 0]) / 100.0)  # seconds behind
    assert lags[0] == pytest.approx(lags[1], rel=0.25)


def test_loss_resets_and_several_poses_follow_the_first(world) -> None:
    ent, system = esper.create_entity(), FilterSystem()
    for i in range(10):
        _run(system, ent, i, (i + 1) / 30, [_pose(0.0), _pose(900.0)])
    lost = _run(system, ent, 10, 11 / 30, [])
    assert lost.pose is None
    back = _run(system, ent, 11, 12 / 30, [_pose(400.0)])  # no drag from where it was lost
    assert back.pose.keypoints[0, 0] == 400.0 and back.source_index == 0
    moved = _run(system, ent, 12, 13 / 30, [_pose(410.0), _pose(0.0)])
    assert 400.0 < moved.pose.keypoints[0, 0] < 410.0  # the first pose, smoothed
    result = esper.component_for_entity(ent, PoseResult)
    written = filtered_result(result, moved)
    assert written.poses[0] is moved.pose and written.poses[1] is result.poses[1]


def test_none_mode_passes_poses_through(world) -> None:
    ent = esper.create_entity(FilterConfig(mode="none"))
    system = FilterSystem()
    for i, x in enumerate((0.0, 50.0, 7.0)):
        out = _run(system, ent, i, (i + 1) / 30, [_pose(x, 0.3)])
        assert (
            out.mode == "none" and out.pose.keypoints[0, 0] == x and out.pose.keypoints[0, 2] == 0.3
        )
    assert describe(FilterConfig(mode="none")) is False
    assert describe(FilterConfig())["world"]["beta"] == 40.0
