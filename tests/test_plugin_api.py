"""posetrack.init() in a host's ShowBase + esper loop: PRC configuration, one-line set-up with no
global side effects, clear errors at set-up, and run-time failures that degrade instead of
stopping the host's frame loop (real clip, real models, real ONNX Runtime errors)."""

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import esper
import numpy as np
import pytest
from clips import cut_clip  # tests/ is on sys.path under pytest
from panda3d.core import ConfigPageManager, load_prc_file_data, unload_prc_file

import posetrack
from posetrack.components.tracker import TrackingConfig
from posetrack.errors import PosetrackError, SourceError
from posetrack.models.runtime import OrtModel
from posetrack.plugin.config import from_prc
from posetrack.systems.pose_tracking import PoseTrackingSystem

CLIP_START, CLIP_FRAMES = 100, 12  # the person is in full view from frame ~10 of the clip on


@pytest.fixture(scope="module")
def short_clip(sports2d_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 frames of the Sports2D clip at half size: a real clip that ends after 12 frames."""
    out = tmp_path_factory.mktemp("clip") / "short.mp4"
    return cut_clip(sports2d_clip, out, CLIP_START, CLIP_FRAMES, shrink=2)


@pytest.fixture
def world() -> Iterator[str]:
    """A fresh esper world for the test, as a host game would have its own."""
    previous = esper.current_world
    esper.switch_world("test-plugin")
    try:
        yield "test-plugin"
    finally:
        esper.switch_world(previous)
        esper.delete_world("test-plugin")


def explicit_pages() -> int:
    return ConfigPageManager.get_global_ptr().get_num_explicit_pages()


def tracking_tasks(base) -> list[str]:
    return [t.name for t in base.taskMgr.getAllTasks() if t.name.startswith("posetrack")]


def test_prc_variables_set_the_config_and_explicit_arguments_win() -> None:
    assert from_prc() == TrackingConfig()  # nothing set: the defaults
    page = load_prc_file_data("test-posetrack-prc", """
        posetrack-source sample:messi5.jpg
        posetrack-model posenet
        posetrack-device cpu
        posetrack-decode gpu
        posetrack-smoothing off
        posetrack-max-poses 3
    """)  # fmt: skip
    try:
        from_page = from_prc()
        explicit = from_prc(model="movenet-lightning", smoothing=True)
    finally:
        unload_prc_file(page)
    assert from_page == TrackingConfig(
        "sample:messi5.jpg", "posenet", "cpu", "auto", "gpu", smoothing=False, max_poses=3
    )
    assert (explicit.model, explicit.smoothing) == ("movenet-lightning", True)
    assert explicit.max_poses == 3  # the rest still from PRC
    assert from_prc() == TrackingConfig()  # page unloaded: defaults again
    with pytest.raises(PosetrackError, match="unknown tracking option modle"):
        from_prc(modle="posenet")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("posetrack-device gpu0", "posetrack-device is 'gpu0': use auto, cpu, cuda"),
        ("posetrack-preprocess fast", "posetrack-preprocess is 'fast': use auto, gpu, cpu"),
        ("posetrack-max-poses many", "posetrack-max-poses is 'many': use a whole number"),
        ("posetrack-max-poses 0", "posetrack-max-poses is 0: use a whole number >= 1"),
        ("posetrack-smoothing maybe", "posetrack-smoothing is 'maybe': use true or false"),
        ("posetrack-model pose-detector", "posetrack-model is 'pose-detector': use one of"),
    ],
)
def test_bad_prc_value_is_an_error_naming_the_variable(line: str, message: str) -> None:
    page = load_prc_file_data("test-posetrack-bad-prc", line)
    try:
        with pytest.raises(PosetrackError) as caught:
            from_prc()
    finally:
        unload_prc_file(page)
    assert message in str(caught.value)
    assert "PRC variable" in str(caught.value)


def test_init_runs_in_the_host_loop_and_close_leaves_nothing_behind(
    showbase, world: str, short_clip: Path
) -> None:
    pages, processors = explicit_pages(), list(esper._processors)
    tracking = posetrack.init(
        showbase, source=str(short_clip), device="cpu", preprocess="gpu", decode="cpu"
    )
    try:
        assert isinstance(tracking, PoseTrackingSystem)
        assert esper.get_processor(PoseTrackingSystem) is tracking
        # the host's GL context is lent: no second context, no PRC page of our own
        assert tracking.gpu_context.gsg == showbase.win.gsg
        assert explicit_pages() == pages
        assert len(tracking_tasks(showbase)) == 1  # the host calls no esper.process: we do
        for _ in range(4):
            showbase.taskMgr.step()
        assert tracking.process_calls == 4
        assert tracking.result.frame == 3 and len(tracking.result.poses) == 1
        assert tracking.status.state == "tracking"
    finally:
        tracking.close()
    assert list(esper._processors) == processors
    assert tracking_tasks(showbase) == []
    assert list(esper.get_entities()) == []
    assert explicit_pages() == pages and esper.current_world == world
    assert not {"systems", "components", "game"} & set(sys.modules)
    tracking.close()  # idempotent


def test_a_host_that_calls_esper_process_itself_is_not_scheduled_twice(
    showbase, world: str, short_clip: Path
) -> None:
    def host_update(task):
        esper.process()
        return task.cont

    before = showbase.taskMgr.add(host_update, "host-update")
    try:
        tracking = posetrack.init(showbase, source=str(short_clip), device="cpu")
        assert tracking_tasks(showbase) == []  # seen at init: no task of ours
        for _ in range(2):
            showbase.taskMgr.step()
        assert tracking.process_calls == 2
        tracking.close()
    finally:
        showbase.taskMgr.remove(before)
    # a host that starts calling it after init: our task steps aside on the first frame
    tracking = posetrack.init(showbase, source=str(short_clip), device="cpu")
    after = showbase.taskMgr.add(host_update, "host-update")
    try:
        assert len(tracking_tasks(showbase)) == 1
        for _ in range(3):
            showbase.taskMgr.step()
        assert tracking.process_calls == 3 and tracking_tasks(showbase) == []
    finally:
        showbase.taskMgr.remove(after)
        tracking.close()


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"source": "webcam:7"}, SourceError, "camera 7"),
        ({"source": "no-such-clip.mp4"}, SourceError, "no-such-clip.mp4"),
        ({"model": "no-such-model"}, PosetrackError, "'no-such-model': use one of"),
    ],
)
def test_a_failing_camera_or_model_raises_at_setup_and_leaves_nothing(
    showbase, world: str, overrides: dict, error: type, message: str
) -> None:
    processors, pages = list(esper._processors), explicit_pages()
    with pytest.raises(error, match=message):
        posetrack.init(showbase, device="cpu", **overrides)
    assert list(esper._processors) == processors and tracking_tasks(showbase) == []
    assert explicit_pages() == pages and list(esper.get_entities()) == []


def run_host(base, tracking: PoseTrackingSystem, frames: int) -> list[tuple[str, object]]:
    """Step the host's frame loop; (status state, PoseResult) after each frame."""
    seen = []
    for _ in range(frames):
        base.taskMgr.step()
        seen.append((tracking.status.state, tracking.result))
    return seen


def test_a_clip_that_ends_mid_game_keeps_the_host_running(
    showbase, world: str, short_clip: Path
) -> None:
    host_frames = []
    counter = showbase.taskMgr.add(lambda task: host_frames.append(1) or task.cont, "host")
    # lockstep (one clip frame per host frame): the states below are exact frame by frame;
    # the live hand-over has its own tests (test_live_tracking.py)
    tracking = posetrack.init(showbase, source=str(short_clip), device="cpu", live=False)
    try:
        seen = run_host(showbase, tracking, CLIP_FRAMES + 5)
    finally:
        showbase.taskMgr.remove(counter)
        tracking.close()
    assert len(host_frames) == CLIP_FRAMES + 5  # the host loop never stopped
    assert [state for state, _ in seen[CLIP_FRAMES:]] == ["ended"] * 5
    last = seen[-1][1]
    assert last.frame == CLIP_FRAMES - 1 and len(last.poses) == 1  # a clean end keeps it


def test_a_source_that_fails_mid_game_marks_the_pose_lost_and_warns_once(
    showbase, world: str, messi_image: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a1.jpg").write_bytes(messi_image.read_bytes())
    (tmp_path / "a2.jpg").write_text("not a picture: the camera went away")
    tracking = posetrack.init(showbase, source=str(tmp_path), device="cpu", live=False)  # exact
    try:
        with caplog.at_level(logging.INFO, logger="posetrack"):
            seen = run_host(showbase, tracking, 6)
        status = tracking.status
    finally:
        tracking.close()
    assert seen[0][0] == "tracking" and len(seen[0][1].poses) == 1
    assert [state for state, _ in seen[1:]] == ["ended"] * 5
    assert seen[-1][1].poses == [] and seen[-1][1].frame == 1  # lost: characters relax
    assert status.stage == "capture" and "a2.jpg" in status.reason
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "a2.jpg" in warnings[0].getMessage()


class FlakyModel:
    """The real OrtModel; on the calls in `bad`, `fault` changes what happens (real ORT
    errors from a wrong input, or NaN outputs). Isolates the failure path, nothing more."""

    def __init__(self, model: OrtModel, bad: set[int], fault: Callable) -> None:
        self.model, self.bad, self.fault = model, bad, fault
        self.input_names = model.input_names
        self.calls = 0

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.calls += 1
        if self.calls in self.bad:
            return self.fault(self.model, feeds)
        return self.model.run(feeds)


def wrong_input(model: OrtModel, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    name = model.input_names[0]
    return model.run({name: feeds[name][:, ::2]})  # ORT raises: the input shape is wrong


def nan_outputs(model: OrtModel, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    outputs = model.run(feeds)
    outputs["Identity"] = outputs["Identity"].copy()
    outputs["Identity"][0, 5] = np.nan  # one landmark's y: a partial NaN is as bad
    return outputs


@pytest.mark.parametrize(
    ("fault", "reason"), [(wrong_input, "INVALID_ARGUMENT"), (nan_outputs, "NaN")]
)
def test_a_failing_model_warns_once_marks_the_pose_lost_and_recovers(
    showbase, world, short_clip: Path, caplog: pytest.LogCaptureFixture, fault, reason: str
) -> None:
    tracking = posetrack.init(showbase, source=str(short_clip), device="cpu", live=False)  # exact
    inference = tracking.stages["inference"]
    inference.model = FlakyModel(inference.model, {3, 4, 5}, fault)
    try:
        with caplog.at_level(logging.WARNING, logger="posetrack"):
            seen = run_host(showbase, tracking, 8)
        lost = tracking.status.lost_frames
    finally:
        tracking.close()
    states = [state for state, _ in seen]
    assert states == ["tracking"] * 2 + ["lost"] * 3 + ["tracking"] * 3, states
    for state, result in seen:
        assert len(result.poses) == (state == "tracking")
        for pose in result.poses:  # NaN or inf never reaches a PoseResult
            assert np.isfinite(pose.keypoints).all() and np.isfinite(pose.world).all()
    assert lost == 3
    assert len(caplog.records) == 1 and "inference" in caplog.records[0].getMessage()
    assert reason in caplog.records[0].getMessage()


def test_without_degrade_a_failing_source_still_raises_for_the_command_line(
    world: str, messi_image: Path, tmp_path: Path
) -> None:
    (tmp_path / "a1.jpg").write_bytes(messi_image.read_bytes())
    (tmp_path / "a2.jpg").write_text("broken")
    tracker = PoseTrackingSystem(str(tmp_path), TrackingConfig(device="cpu", preprocess="cpu"))
    try:
        tracker.process()
        with pytest.raises(SourceError, match="a2.jpg"):
            tracker.process()
    finally:
        tracker.close()


def test_a_game_that_closes_tracking_and_quits_inside_a_frame_does_quit(
    showbase, world: str, short_clip: Path
) -> None:
    """A processor of the game's closes tracking and calls base.userExit() (SystemExit) in
    the task that runs esper for it: the exit reaches the game's loop (the task is not pulled
    from under itself, which made Panda drop the exception and the game run on forever)."""
    tracking = posetrack.init(showbase, source=str(short_clip), device="cpu")

    class QuitAfterTwo(esper.Processor):
        frames = 0

        def process(self) -> None:
            self.frames += 1
            if self.frames == 2:
                tracking.close()
                raise SystemExit(0)

    quitter = QuitAfterTwo()
    esper.add_processor(quitter)
    try:
        showbase.taskMgr.step()
        with pytest.raises(SystemExit):
            showbase.taskMgr.step()
        for _ in range(2):  # Panda runs a task that raised again a frame later: then it ends
            showbase.taskMgr.step()
        assert tracking_tasks(showbase) == [] and quitter.frames == 2
    finally:
        esper.remove_processor(QuitAfterTwo)
        tracking.close()
