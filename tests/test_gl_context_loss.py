"""The GL context under the GPU stages goes away or is reset mid-run (fault injection, real
Panda3D GL objects, real clip, real models): the host's loop goes on, the status says why,
and tracking resumes with the same answers.

A game lends the tracker the GSG of a window; here that window is a second offscreen buffer
with a GSG of its own, so closing it (what a game does when it reopens its window) loses the
context without touching the session's ShowBase window.
"""

from collections.abc import Iterator
from pathlib import Path

import esper
import numpy as np
import pytest
from clips import cut_clip  # tests/ is on sys.path under pytest
from panda3d.core import FrameBufferProperties, GraphicsPipe, WindowProperties

from posetrack.components.tracker import TrackingConfig
from posetrack.stages.gpu_context import GpuContext
from posetrack.systems.pose_tracking import PoseTrackingSystem

FRAMES = 10
LOSE_AT = 4  # the window closes before this frame (0-based): frames 0-3 ran on the GPU


@pytest.fixture(scope="module")
def clip(sports2d_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clip") / "short.mp4"
    return cut_clip(sports2d_clip, out, 100, FRAMES, shrink=2)


@pytest.fixture
def world() -> Iterator[str]:
    previous = esper.current_world
    esper.switch_world("test-gl-loss")
    try:
        yield "test-gl-loss"
    finally:
        esper.switch_world(previous)
        esper.delete_world("test-gl-loss")


def lent_window(base):  # noqa: ANN001, ANN201 - a ShowBase; returns a GraphicsBuffer
    """A second offscreen window with a GSG of its own, as a game's window would lend."""
    fb = FrameBufferProperties()
    fb.set_rgba_bits(8, 8, 8, 8)
    buffer = base.graphicsEngine.make_output(
        base.pipe, "lent-window", 0, fb, WindowProperties.size(16, 16),
        GraphicsPipe.BF_refuse_window,
    )  # fmt: skip
    base.graphicsEngine.open_windows()
    assert buffer is not None and buffer.gsg is not None and buffer.gsg != base.win.gsg
    return buffer


def track(base, clip: Path, fault, main_window: bool = False) -> list[tuple[str, str, object]]:  # noqa: ANN001
    """Lockstep GPU tracking on a lent window's context (a second window, or the ShowBase's
    own); `fault(buffer, context)` runs before frame LOSE_AT. Returns (state, reason,
    PoseResult) per host frame."""
    buffer = base.win if main_window else lent_window(base)
    base.taskMgr.step()  # a running game: its windows have rendered (their contexts are made)
    context = GpuContext(base.graphicsEngine, buffer.gsg)  # borrowed: the host owns the window
    config = TrackingConfig(device="cpu", preprocess="gpu", decode="gpu", smoothing=False)
    tracker = PoseTrackingSystem(str(clip), config, gpu_context=context, degrade=True)
    seen = []
    try:
        for frame in range(FRAMES):
            if frame == LOSE_AT:
                fault(buffer, context)
            tracker.process()  # as the plugin's task does, before the frame renders
            base.taskMgr.step()  # the host's frame goes on whatever happens to the context
            status = tracker.status
            seen.append((status.state, status.reason, tracker.result))
    finally:
        tracker.close()
        if context.alive and not main_window:
            base.graphicsEngine.remove_window(buffer)
    return seen


def keypoints(result) -> np.ndarray:  # noqa: ANN001
    return np.asarray(result.poses[0].keypoints)[:, :2]


def nothing(buffer, context) -> None:  # noqa: ANN001
    pass


def test_a_closed_window_loses_one_frame_with_a_reason_then_tracking_goes_on_on_the_cpu(
    showbase, world: str, clip: Path
) -> None:
    def close_window(buffer, context) -> None:  # noqa: ANN001
        showbase.graphicsEngine.remove_window(buffer)
        assert not context.alive

    seen = track(showbase, clip, close_window)
    states = [state for state, _, _ in seen]
    assert states == ["tracking"] * LOSE_AT + ["lost"] + ["tracking"] * (FRAMES - LOSE_AT - 1)
    reason = seen[LOSE_AT][1]
    assert "GL context was lost" in reason and "continue on the CPU" in reason, reason
    assert seen[LOSE_AT][2].poses == []  # the lost frame gives no pose: characters relax
    # the CPU path that took over gives the CPU path's answers (the lost frame dropped the
    # tracked ROI: the frames after it are detected afresh on both runs alike)
    reference = track(showbase, clip, nothing)
    for frame in range(LOSE_AT + 1, FRAMES):
        pose, other = seen[frame][2].poses[0], reference[frame][2].poses[0]
        seen_well = (pose.keypoints[:, 2] > 0.5) & (other.keypoints[:, 2] > 0.5)
        error = np.abs(pose.keypoints[seen_well, :2] - other.keypoints[seen_well, :2])
        print(
            f"frame {frame}: CPU fallback vs GPU throughout, max {error.max():.2f} px, "
            f"median {np.median(error):.2f} px"
        )


def test_a_reset_context_releases_everything_and_gives_the_same_answers(
    showbase, world: str, clip: Path
) -> None:
    def reset(buffer, context) -> None:  # noqa: ANN001
        # what Panda does on a lost and restored device: every texture and shader released,
        # prepared again on next use
        context.gsg.release_all()

    # the ShowBase's own window (a release_all on a buffer that renders nothing, or between a
    # compute dispatch and the next render, crashes Panda 1.10.16 itself in do_issue_shader)
    reference = track(showbase, clip, nothing, main_window=True)
    seen = track(showbase, clip, reset, main_window=True)
    assert [state for state, _, _ in seen] == ["tracking"] * FRAMES
    for frame in range(FRAMES):
        np.testing.assert_array_equal(keypoints(seen[frame][2]), keypoints(reference[frame][2]))
