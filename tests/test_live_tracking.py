"""The live hand-over (posetrack.init's default): the pose stages run on a worker thread on the
newest frame, a clip plays at its own rate, the host's thread only applies results.

Real clip, real models, real ORT; the only stand-ins are a model wrapper that makes inference
slow or broken on purpose (to force frames in flight and failures), around the real session.
"""

import threading
import time
from pathlib import Path

import esper
import numpy as np
import pytest
from clips import cut_clip  # tests/ is on sys.path under pytest

from posetrack.components import TrackingConfig
from posetrack.models.runtime import OrtModel
from posetrack.systems.capture import CaptureSystem
from posetrack.systems.decode import DecodeSystem
from posetrack.systems.detect import DetectSystem
from posetrack.systems.inference import InferenceSystem
from posetrack.systems.pose_tracking import PoseTrackingSystem
from posetrack.systems.preprocess import PreprocessSystem

CLIP_FRAMES = 45  # 1.5 s of the Sports2D clip, the person in view throughout
CPU = TrackingConfig(model="blazepose-full", device="cpu", preprocess="cpu", decode="cpu")


@pytest.fixture(scope="module")
def clip(sports2d_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 100.. of the clip (someone in view from the start)."""
    return cut_clip(sports2d_clip, tmp_path_factory.mktemp("live") / "clip.mp4", 100, CLIP_FRAMES)


@pytest.fixture
def world() -> str:
    esper.switch_world("test-live")
    yield "test-live"
    esper.switch_world("default")
    esper.delete_world("test-live")


class SlowModel:
    """The real OrtModel, `delay_s` slower per run, recording which thread ran it."""

    def __init__(self, model: OrtModel, delay_s: float) -> None:
        self.model, self.delay_s = model, delay_s
        self.input_names = model.input_names
        self.threads: set[str] = set()

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay_s)
        return self.model.run(feeds)


def _posetrack_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("posetrack-")]


def _run_host(tracker: PoseTrackingSystem, seconds: float, hz: float = 60.0) -> list:
    """A host loop at `hz`: process() once a frame; the (frame, state) applied each frame."""
    seen, step = [], 1.0 / hz
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        tracker.process()
        result = tracker.result
        seen.append((result.frame if result else -1, tracker.status.state))
        time.sleep(step)
    return seen


def test_a_slow_model_drops_stale_frames_instead_of_queueing_them(world: str, clip: Path):
    """Inference slowed to 150 ms against a 30 fps clip: most frames are dropped (counted),
    the applied frames only move forward, and none is older than a couple of model runs."""
    tracker = PoseTrackingSystem(str(clip), CPU, live=True)
    slow = SlowModel(tracker.stages["inference"].model, 0.15)
    tracker.stages["inference"].model = slow
    try:
        seen = _run_host(tracker, 1.2)
        latency = tracker.latency_ms()
        dropped = tracker.dropped_frames
    finally:
        tracker.close()
    applied = [frame for frame, _ in seen if frame >= 0]
    assert applied, "no frame was applied in 1.2 s"
    assert applied == sorted(applied), "a frame older than one already applied came back"
    assert len(set(applied)) < 20 and dropped >= 10, (len(set(applied)), dropped)
    print(f"capture -> applied with a 150 ms model: {latency}")  # a figure, not a bound
    assert slow.threads == {"posetrack-worker"}  # never the host's thread


def test_the_host_thread_never_runs_a_model_and_close_leaves_no_thread(world: str, clip: Path):
    before = _posetrack_threads()
    tracker = PoseTrackingSystem(str(clip), CPU, live=True)
    slow = SlowModel(tracker.stages["inference"].model, 0.3)
    tracker.stages["inference"].model = slow
    try:
        _run_host(tracker, 0.5)
    finally:
        start = time.perf_counter()
        tracker.close()  # a model run is in flight: close waits for it, not for the clip
        closing_s = time.perf_counter() - start
    assert _posetrack_threads() == before, _posetrack_threads()
    assert threading.main_thread().name not in slow.threads
    print(f"close() with a model run in flight took {closing_s:.2f} s")


def test_a_stage_failure_on_the_worker_marks_the_pose_lost_and_tracking_resumes(
    world: str, clip: Path
):
    tracker = PoseTrackingSystem(str(clip), CPU, degrade=True, live=True)
    model = tracker.stages["inference"].model
    calls = {"n": 0}

    def broken_then_fine(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        calls["n"] += 1
        if 3 <= calls["n"] <= 6:
            raise RuntimeError("the GPU fell off the bus")
        return model.run(feeds)

    tracker.stages["inference"].model = type(
        "Broken", (), {"input_names": model.input_names, "run": staticmethod(broken_then_fine)}
    )
    try:
        seen = _run_host(tracker, 1.2)  # the clip lasts 1.5 s
    finally:
        tracker.close()
    states = [state for _, state in seen]
    assert "lost" in states, states
    first_lost = states.index("lost")
    assert "tracking" in states[:first_lost] and "tracking" in states[first_lost:], states


def test_a_crashed_worker_degrades_to_a_lost_pose_and_the_host_goes_on(world: str, clip: Path):
    tracker = PoseTrackingSystem(str(clip), CPU, degrade=True, live=True)

    def crash(frame: object) -> None:
        raise AssertionError("a bug in a stage, not a stage failure")

    tracker._pipeline.run = crash  # the worker dies on its next frame
    try:
        seen = _run_host(tracker, 0.5)
        status = tracker.status
    finally:
        tracker.close()
    assert len(seen) > 10  # the host loop went on
    assert status.state == "lost" and status.stage == "worker" and "bug" in status.reason


def test_lockstep_results_equal_the_stage_processors_run_by_esper(world: str, clip: Path):
    """`posetrack track` and results() (FramePipeline in the caller's thread) give exactly what
    the stage processors give when esper runs them one by one, as before the live pipeline."""
    tracker = PoseTrackingSystem(str(clip), CPU)
    try:
        ours = [(r.frame, [p.keypoints.copy() for p in r.poses]) for r in tracker.results(20)]
    finally:
        tracker.close()

    esper.switch_world("test-live-reference")
    try:
        reference = _esper_chain(clip, 20)
    finally:
        esper.switch_world("test-live")
        esper.delete_world("test-live-reference")
    assert [f for f, _ in ours] == [f for f, _ in reference] == list(range(20))
    for (_, a), (_, b) in zip(ours, reference, strict=True):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def _esper_chain(clip: Path, frames: int) -> list:
    """The pose stages as separate esper processors, each process() in turn."""
    from posetrack.components import PoseResult, StageTimes, TrackingState
    from posetrack.components.tracker import TrackingStatus
    from posetrack.models import zoo
    from posetrack.models.adapters import load_pose_model
    from posetrack.stages.crop_cpu import CpuCropper
    from posetrack.stages.decode_cpu import CpuHeatmapOps
    from posetrack.stages.sources import open_source

    model = load_pose_model("blazepose-full")
    detector = OrtModel(zoo.onnx_path("pose-detector"), "cpu")
    landmarks = OrtModel(zoo.onnx_path("blazepose-full"), "cpu")
    entity = esper.create_entity(TrackingState(), StageTimes(), TrackingStatus())
    cropper = CpuCropper()
    capture = CaptureSystem(open_source(str(clip)), entity)
    stages = [capture, DetectSystem(detector, model.keypoint_names, cropper),
              PreprocessSystem(model, cropper), InferenceSystem(landmarks),
              DecodeSystem(model, CpuHeatmapOps())]  # fmt: skip
    out = []
    try:
        for _ in range(frames):
            for stage in stages:
                stage.process()
            result = esper.component_for_entity(entity, PoseResult)
            out.append((result.frame, [p.keypoints.copy() for p in result.poses]))
    finally:
        capture.close()
        detector.close()
        landmarks.close()
    return out
