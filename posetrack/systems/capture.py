"""The capture stage: reads frames on a background thread and hands them to the tracker."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import esper

from posetrack.components.frame import CameraFrame, EndOfStream
from posetrack.errors import SourceError
from posetrack.stages.sources import DEFAULT_STALL_TIMEOUT_S, FrameSource

log = logging.getLogger(__name__)

# File sources: decoding a 1080p frame takes ~11 ms here, about what a model takes, so a few
# frames of read-ahead let decode overlap inference and absorb slow keyframes, while holding at
# most 4 x 5 MB of pixels. Never a drop: the pose stream must hold every frame.
READ_AHEAD_FRAMES = 4
_POLL_S = 0.1  # how often a waiting thread re-checks for close(): bounds close() latency
_JOIN_TIMEOUT_S = 2.0  # a camera read ends within its own stall timeout; do not wait longer


@dataclass
class End:
    """Queued by the reader thread after the last frame; `error` if reading failed."""

    error: BaseException | None = None


class CaptureSystem(esper.Processor):
    """Reads: nothing (it owns a FrameSource). Writes on the tracker entity: CameraFrame, the
    newest frame, replaced on each `process()`; EndOfStream(frames=n) once a source is exhausted.

    Live sources (cameras): the reader thread keeps only the newest frame; older unread frames are
    dropped and counted in `dropped`. If none arrived since the last call, the previous
    CameraFrame stays (same `index`). A camera silent for `stall_timeout` s ends the stream.
    File sources: every frame, in order; `process()` waits for the next one. A read error ends
    the stream and is raised from `process()` as a SourceError. `paced=True` plays a file as a
    camera would: each frame is handed over at its own time (the clip's frame rate, from when
    reading started) into the newest-frame slot, so a slow consumer drops frames instead of
    slowing the clip down (what a game wants; `posetrack track` wants every frame).
    `wait_newest()` is the worker thread's way in (stages/live.py).
    """

    def __init__(
        self,
        source: FrameSource,
        entity: int,
        read_ahead: int = READ_AHEAD_FRAMES,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT_S,
        paced: bool = False,
    ) -> None:
        self.source = source
        self.entity = entity
        self.paced = paced and not source.live
        self._slot = source.live or self.paced  # newest-frame hand-over (else a queue)
        self._fresh = threading.Event()  # set by the reader when the slot gets a frame
        self.dropped = 0  # live frames overwritten before process() took them
        self.delivered = 0  # CameraFrames handed to the entity
        self._stall_timeout = stall_timeout
        self._stop = threading.Event()
        self._queue: queue.Queue[CameraFrame | End] = queue.Queue(maxsize=read_ahead)
        self._lock = threading.Lock()  # guards the live slot below
        self._newest: CameraFrame | None = None
        self._live_end: End | None = None
        self._t_newest = time.perf_counter()
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="posetrack-capture", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True while the reader thread is alive."""
        return self._thread.is_alive()

    @property
    def backlog(self) -> int:
        """Frames read but not yet handed over (live: at most 1)."""
        if self._slot:
            return int(self._newest is not None)
        return self._queue.qsize()

    def _run(self) -> None:
        """Reader thread: read until the end, an error or close(); then close the source."""
        end = End()
        try:
            index, start = 0, time.perf_counter()
            while not self._stop.is_set():
                item = self.source.read()
                if item is None:
                    break
                if self.paced:  # a file played as a camera: each frame at its own time
                    self._stop.wait(max(0.0, start + item[1] - time.perf_counter()))
                frame = CameraFrame(item[0], index, item[1], time.perf_counter())
                index += 1
                self._hand_over(frame)
        except Exception as error:  # surfaced by process() as a SourceError
            end = End(error)
        finally:
            self._hand_over(end)
            self.source.close()

    def _hand_over(self, item: CameraFrame | End) -> None:
        if self._slot:
            with self._lock:
                if isinstance(item, End):
                    self._live_end = item
                else:
                    self.dropped += int(self._newest is not None)
                    self._newest, self._t_newest = item, time.perf_counter()
            self._fresh.set()
            return
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def process(self, *args: Any, **kwargs: Any) -> None:
        # a finished stream stays finished; the last CameraFrame stays on the entity
        if self._ended:
            return
        # take the newest live frame, or the next file frame (waiting for it)
        item = self._take_live() if self._slot else self._take_next()
        # hand a frame over, or mark the end and raise a read error
        if isinstance(item, CameraFrame):
            esper.add_component(self.entity, item)
            self.delivered += 1
        elif isinstance(item, End):
            self._finish(item)

    def wait_newest(self, timeout: float) -> CameraFrame | End | None:
        """For a worker thread (no esper): the newest frame not taken yet, waiting up to
        `timeout` s for one; End once the source is exhausted (its `error` set if reading
        failed); None when nothing came in time."""
        if not self._slot:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                return None
        else:
            self._fresh.wait(timeout)
            self._fresh.clear()
            item = self._take_live()
        if isinstance(item, CameraFrame):
            self.delivered += 1
        return item

    def end_of_stream(self, end: End) -> None:
        """Write EndOfStream for an End a worker took, raising a read error as process() does."""
        if not self._ended:
            self._finish(end)

    def _take_live(self) -> CameraFrame | End | None:
        with self._lock:
            frame, self._newest = self._newest, None
            if frame is not None:
                return frame
            if self._live_end is not None:
                return self._live_end
            silent = time.perf_counter() - self._t_newest
        if silent > self._stall_timeout:
            log.warning(
                "%s sent no frame for %.1f s (unplugged or hung?): ending the stream",
                self.source.description, silent,
            )  # fmt: skip
            return End()
        return None

    def _take_next(self) -> CameraFrame | End:
        while True:
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self._stop.is_set():  # closed: end quietly
                    return End()
                if not self._thread.is_alive() and self._queue.empty():
                    return End(SourceError(f"{self.source.description}: the reader stopped"))

    def _finish(self, end: End) -> None:
        self._ended = True
        esper.add_component(self.entity, EndOfStream(frames=self.delivered))
        if isinstance(end.error, SourceError):
            raise end.error
        if end.error is not None:
            raise SourceError(
                f"reading {self.source.description} failed: {end.error}"
            ) from end.error

    def close(self) -> None:
        """Stop the reader thread and close the source (the thread closes it on its way out)."""
        self._stop.set()
        self._fresh.set()  # a worker waiting for a frame re-checks at once
        while not self._queue.empty():  # unblock a reader waiting to queue a frame
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(_JOIN_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning(
                "%s is still blocked in a read; it will be closed when the read returns",
                self.source.description,
            )

    def __enter__(self) -> CaptureSystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
