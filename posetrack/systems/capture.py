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
class _End:
    """Queued by the reader thread after the last frame; `error` if reading failed."""

    error: BaseException | None = None


class CaptureSystem(esper.Processor):
    """Reads: nothing (it owns a FrameSource). Writes on the tracker entity: CameraFrame, the
    newest frame, replaced on each `process()`; EndOfStream(frames=n) once a source is exhausted.

    Live sources (cameras): the reader thread keeps only the newest frame; older unread frames are
    dropped and counted in `dropped`. If none arrived since the last call, the previous
    CameraFrame stays (same `index`). A camera silent for `stall_timeout` s ends the stream.
    File sources: every frame, in order; `process()` waits for the next one. A read error ends
    the stream and is raised from `process()` as a SourceError.
    """

    def __init__(
        self,
        source: FrameSource,
        entity: int,
        read_ahead: int = READ_AHEAD_FRAMES,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT_S,
    ) -> None:
        self.source = source
        self.entity = entity
        self.dropped = 0  # live frames overwritten before process() took them
        self.delivered = 0  # CameraFrames handed to the entity
        self._stall_timeout = stall_timeout
        self._stop = threading.Event()
        self._queue: queue.Queue[CameraFrame | _End] = queue.Queue(maxsize=read_ahead)
        self._lock = threading.Lock()  # guards the live slot below
        self._newest: CameraFrame | None = None
        self._live_end: _End | None = None
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
        if self.source.live:
            return int(self._newest is not None)
        return self._queue.qsize()

    def _run(self) -> None:
        """Reader thread: read until the end, an error or close(); then close the source."""
        end = _End()
        try:
            index = 0
            while not self._stop.is_set():
                item = self.source.read()
                if item is None:
                    break
                frame = CameraFrame(item[0], index, item[1], time.perf_counter())
                index += 1
                self._hand_over(frame)
        except Exception as error:  # surfaced by process() as a SourceError
            end = _End(error)
        finally:
            self._hand_over(end)
            self.source.close()

    def _hand_over(self, item: CameraFrame | _End) -> None:
        if self.source.live:
            with self._lock:
                if isinstance(item, _End):
                    self._live_end = item
                    return
                self.dropped += int(self._newest is not None)
                self._newest, self._t_newest = item, time.perf_counter()
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
        item = self._take_live() if self.source.live else self._take_next()
        # hand a frame over, or mark the end and raise a read error
        if isinstance(item, CameraFrame):
            esper.add_component(self.entity, item)
            self.delivered += 1
        elif isinstance(item, _End):
            self._finish(item)

    def _take_live(self) -> CameraFrame | _End | None:
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
            return _End()
        return None

    def _take_next(self) -> CameraFrame | _End:
        while True:
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self._stop.is_set():  # closed: end quietly
                    return _End()
                if not self._thread.is_alive() and self._queue.empty():
                    return _End(SourceError(f"{self.source.description}: the reader stopped"))

    def _finish(self, end: _End) -> None:
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
