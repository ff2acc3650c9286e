"""Frame sources and the capture system, on real footage (the Sports2D clip, messi5.jpg)."""

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import cv2
import esper
import numpy as np
import pytest

from posetrack.components.frame import CameraFrame, EndOfStream
from posetrack.errors import SourceError
from posetrack.stages.sources import FrameSource, VideoFileSource, WebcamSource, open_source
from posetrack.systems.capture import CaptureSystem

CLIP_FRAMES = 230
CLIP_SIZE = (1768, 994)


@pytest.fixture
def world() -> Iterator[str]:
    """A fresh esper world for one test, removed afterwards."""
    name = f"test-{uuid.uuid4().hex}"
    esper.switch_world(name)
    try:
        yield name
    finally:
        esper.switch_world("default")
        esper.delete_world(name)


class PretendCamera(FrameSource):
    """A real clip that behaves like a camera: live, read as fast as it decodes. After
    `block_after` frames its read() hangs (an unplugged camera whose driver never returns) until
    `unplug.set()`, then the stream ends; after `limit` frames it ends too. `started` counts
    read() calls begun."""

    live = True

    def __init__(self, clip: Path, block_after: int | None = None, limit: int = 10**9) -> None:
        self._video = VideoFileSource(clip)
        self.description = "pretend camera"
        self.fps, self.size, self.frame_count = self._video.fps, self._video.size, None
        self.block_after, self.limit = block_after, limit
        self.unplug = threading.Event()
        self.started = 0
        self.changed = threading.Condition()

    def read(self) -> tuple[np.ndarray, float] | None:
        with self.changed:
            self.started += 1
            self.changed.notify_all()
        if self.block_after is not None and self.started > self.block_after:
            self.unplug.wait()
            return None
        if self.started > self.limit:
            return None
        return self._video.read()

    def wait_started(self, n: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.started >= n, timeout=60)

    def close(self) -> None:
        self._video.close()


def run_to_end(system: CaptureSystem, entity: int) -> list[CameraFrame]:
    """Call esper.process() until EndOfStream; every CameraFrame seen, once each."""
    if esper.get_processor(CaptureSystem) is None:
        esper.add_processor(system)
    seen: list[CameraFrame] = []
    while not esper.has_component(entity, EndOfStream):
        esper.process()
        frame = esper.try_component(entity, CameraFrame)
        if frame is not None and (not seen or frame is not seen[-1]):
            seen.append(frame)
        elif system.source.live:
            time.sleep(0.001)  # nothing new yet: let the reader thread run
    return seen


def test_video_capture_delivers_every_frame_in_order_then_end_of_stream(world, sports2d_clip):
    source = open_source(str(sports2d_clip))
    assert (source.size, source.frame_count, source.fps, source.live) == (
        CLIP_SIZE,
        CLIP_FRAMES,
        30.0,
        False,
    )
    entity = esper.create_entity()
    with CaptureSystem(source, entity) as system:
        frames = run_to_end(system, entity)
        assert system.backlog <= 4
    assert [f.index for f in frames] == list(range(CLIP_FRAMES))
    assert esper.component_for_entity(entity, EndOfStream).frames == CLIP_FRAMES
    assert frames[0].pixels.shape == (994, 1768, 3) and frames[0].pixels.dtype == np.uint8
    times = np.array([f.time for f in frames])
    np.testing.assert_allclose(times, np.arange(CLIP_FRAMES) / 30.0, atol=1e-6)
    first = cv2.VideoCapture(str(sports2d_clip)).read()[1]
    np.testing.assert_array_equal(frames[0].pixels, first)
    assert not system.running


def test_image_folder_is_read_in_natural_name_order(world, sports2d_clip, tmp_path):
    cap = cv2.VideoCapture(str(sports2d_clip))
    written = []
    for i in range(12):  # names frame0 .. frame11: plain sorting would put frame10 first
        frame = cv2.resize(cap.read()[1], (442, 248), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), frame)
        written.append(frame)
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(str(tmp_path))
    assert (source.size, source.frame_count, source.fps) == ((442, 248), 12, 30.0)
    entity = esper.create_entity()
    with CaptureSystem(source, entity) as system:
        frames = run_to_end(system, entity)
    assert len(frames) == 12
    for frame, expected in zip(frames, written, strict=True):
        np.testing.assert_array_equal(frame.pixels, expected)
    assert [f.time for f in frames] == [i / 30.0 for i in range(12)]


def test_single_image_is_one_frame(world, messi_image):
    source = open_source(str(messi_image))
    assert (source.size, source.frame_count) == ((548, 342), 1)
    entity = esper.create_entity()
    with CaptureSystem(source, entity) as system:
        frames = run_to_end(system, entity)
    assert len(frames) == 1 and frames[0].time == 0.0
    np.testing.assert_array_equal(frames[0].pixels, cv2.imread(str(messi_image)))
    assert esper.component_for_entity(entity, EndOfStream).frames == 1


def expect_source_error(spec: str, *fragments: str) -> str:
    with pytest.raises(SourceError) as caught:
        open_source(spec)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_path_is_a_clear_error(tmp_path):
    expect_source_error(str(tmp_path / "nope.mp4"), "nope.mp4", "does not exist")


def test_text_file_renamed_mp4_or_jpg_is_a_clear_error(tmp_path):
    (tmp_path / "fake.mp4").write_text("hello, not a video\n")
    (tmp_path / "fake.jpg").write_text("hello, not an image\n")
    expect_source_error(str(tmp_path / "fake.mp4"), "fake.mp4", "not a readable video")
    expect_source_error(str(tmp_path / "fake.jpg"), "fake.jpg", "not a readable image")


def test_mp4_missing_its_header_is_a_clear_error(sports2d_clip, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(sports2d_clip.read_bytes()[200:])  # the moov header is near the start
    expect_source_error(str(cut), "cut.mp4", "not a readable video", "truncated")


def test_mp4_cut_short_raises_after_its_good_frames(world, sports2d_clip, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(sports2d_clip.read_bytes()[:2_000_000])  # about half of the frames
    entity = esper.create_entity()
    with CaptureSystem(open_source(str(cut)), entity) as system:
        esper.add_processor(system)
        with pytest.raises(SourceError, match=r"ended after \d+ of the 230 frames.*truncated"):
            for _ in range(CLIP_FRAMES + 1):  # bounded: a missed error must not hang the test
                esper.process()
    delivered = esper.component_for_entity(entity, EndOfStream).frames
    assert 0 < delivered < CLIP_FRAMES
    assert esper.component_for_entity(entity, CameraFrame).index == delivered - 1


def test_unreadable_image_in_a_folder_surfaces_from_process(world, messi_image, tmp_path):
    (tmp_path / "a1.jpg").write_bytes(messi_image.read_bytes())
    (tmp_path / "a2.jpg").write_text("broken")
    entity = esper.create_entity()
    with CaptureSystem(open_source(str(tmp_path)), entity) as system:
        esper.add_processor(system)
        esper.process()
        assert esper.component_for_entity(entity, CameraFrame).index == 0
        with pytest.raises(SourceError, match="a2.jpg"):
            esper.process()
    assert esper.component_for_entity(entity, EndOfStream).frames == 1


def test_folder_without_images_is_a_clear_error(tmp_path):
    expect_source_error(str(tmp_path), "holds no images")
    (tmp_path / "readme.txt").write_text("no frames here")
    expect_source_error(str(tmp_path), str(tmp_path), "holds no images")


def test_missing_camera_is_a_clear_error_naming_the_index():
    message = expect_source_error("webcam:7", "camera 7", "webcam:7", "video file")
    assert "\n" not in message


def test_malformed_webcam_spec_is_a_clear_error():
    expect_source_error("webcam:abc", "webcam:abc", "webcam:N")
    expect_source_error("webcam", "webcam:N")


def test_camera_that_stops_delivering_ends_the_stream_with_a_warning(world, sports2d_clip, caplog):
    cap = cv2.VideoCapture(str(sports2d_clip))  # stands in for the camera's capture
    cap.set(cv2.CAP_PROP_POS_FRAMES, CLIP_FRAMES - 5)  # its last 5 frames, then nothing
    source = WebcamSource(cap, index=0, stall_timeout=0.2)
    assert source.live and source.frame_count is None and source.size == CLIP_SIZE
    entity = esper.create_entity()
    with caplog.at_level(logging.WARNING), CaptureSystem(source, entity) as system:
        frames = run_to_end(system, entity)
    assert 1 <= len(frames) <= 5
    assert any(
        "webcam:0" in r.getMessage() and "no frame" in r.getMessage() for r in caplog.records
    )
    assert not system.running


def test_live_capture_hands_over_the_newest_frame_and_drops_older(world, sports2d_clip):
    camera = PretendCamera(sports2d_clip, limit=80)
    entity = esper.create_entity()
    system = CaptureSystem(camera, entity)
    esper.add_processor(system)
    indices = []
    for round_ in range(1, 6):
        wanted = 10 * round_  # the consumer is slow: 10 frames arrive between its calls
        camera.wait_started(wanted + 2)  # frame `wanted` is handed over before the next read
        assert system.backlog <= 1  # never a queue: one slot, overwritten
        esper.process()
        indices.append(esper.component_for_entity(entity, CameraFrame).index)
        assert indices[-1] >= wanted
    assert all(b > a + 1 for a, b in zip(indices, indices[1:], strict=False))
    assert system.dropped >= indices[-1] - len(indices) + 1
    frames = run_to_end(system, entity)
    assert frames[-1].index == 79  # the newest, once the camera ran dry
    assert system.delivered + system.dropped == 80
    assert esper.component_for_entity(entity, EndOfStream).frames == system.delivered
    system.close()


def test_live_capture_keeps_the_last_frame_then_ends_when_the_camera_hangs(
    world, sports2d_clip, caplog
):
    camera = PretendCamera(sports2d_clip, block_after=3)
    entity = esper.create_entity()
    system = CaptureSystem(camera, entity, stall_timeout=0.2)
    camera.wait_started(4)  # frames 0..2 read, the 4th read hangs
    system.process()
    last = esper.component_for_entity(entity, CameraFrame)
    system.process()  # nothing new: the same frame stays, consumers see the same index
    assert esper.component_for_entity(entity, CameraFrame) is last and last.index == 2
    with caplog.at_level(logging.WARNING):
        while not esper.has_component(entity, EndOfStream):
            system.process()
    assert any("no frame" in r.getMessage() for r in caplog.records)
    assert system.running  # still stuck in the driver; close() must not hang on it
    camera.unplug.set()
    system.close()
    assert not system.running


def test_close_joins_the_reader_thread_and_closes_the_source(world, sports2d_clip):
    source = open_source(str(sports2d_clip))
    assert isinstance(source, VideoFileSource)
    entity = esper.create_entity()
    system = CaptureSystem(source, entity, read_ahead=2)
    system.process()
    system.process()
    assert system.running and system.backlog <= 2
    system.close()
    assert not system.running
    assert not source._cap.isOpened()
    system.process()  # after close: nothing more, no hang
    assert esper.component_for_entity(entity, CameraFrame).index == 1
