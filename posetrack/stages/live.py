"""The pose stages on a worker thread, handed over newest-wins: a game's frame never waits.

    capture thread --newest frame--> worker thread (FramePipeline.run) --newest outcome--> host

The worker takes the newest frame the capture stage holds (older ones were dropped there and
counted), runs the pose stages on it (ONNX Runtime, OpenCV and numpy release the GIL), and
leaves the outcome in a one-slot hand-over: an outcome the host has not taken when the next is
ready is replaced and counted in `dropped`. Nothing queues, so the pose the host applies is
never older than one model run. The host thread calls `take()` once a frame: a lock, a swap.

A stage error is part of the outcome (FramePipeline catches it; the tracker's guard turns it into
"lost"). Anything else that escapes the worker (a bug) ends it: `take()` then raises it on the
host thread once, wrapped as a PosetrackError, so the tracker degrades instead of freezing
silently. `close()` stops the worker within one model run plus _JOIN_TIMEOUT_S at most.
"""

import logging
import threading

from posetrack.components import CameraFrame
from posetrack.errors import PosetrackError
from posetrack.stages.pipeline import FrameOutcome, FramePipeline
from posetrack.systems.capture import CaptureSystem, End

log = logging.getLogger("posetrack")

_WAIT_S = 0.1  # how long the worker sleeps on an empty capture before re-checking close()
_JOIN_TIMEOUT_S = 5.0  # a model run here takes ~15-30 ms; a stuck driver must not hang close()


class LiveWorker:
    """Runs `pipeline` on the newest frames of `capture` until the source ends or close()."""

    def __init__(self, capture: CaptureSystem, pipeline: FramePipeline) -> None:
        self.capture = capture
        self.pipeline = pipeline
        self.dropped = 0  # outcomes replaced before the host took them
        self.runs = 0  # frames the worker ran the stages on
        self._lock = threading.Lock()
        self._outcome: FrameOutcome | None = None
        self._end: End | None = None  # the source's end, handed over once
        self._crash: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="posetrack-worker", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def take(self) -> tuple[FrameOutcome | None, End | None]:
        """(the newest outcome not taken yet, or None; the source's end once, or None)."""
        with self._lock:
            outcome, self._outcome = self._outcome, None
            end, self._end = self._end, None
            crash, self._crash = self._crash, None
        if crash is not None:
            raise PosetrackError(f"the tracking worker stopped: {crash}") from crash
        return outcome, end

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                item = self.capture.wait_newest(_WAIT_S)
                if isinstance(item, End):
                    with self._lock:
                        self._end = item
                    return
                if isinstance(item, CameraFrame):
                    self._publish(self.pipeline.run(item))
        except BaseException as error:  # a bug, not a stage failure: tell the host
            log.debug("posetrack worker crashed", exc_info=error)
            with self._lock:
                self._crash = error

    def _publish(self, outcome: FrameOutcome) -> None:
        self.runs += 1
        with self._lock:
            self.dropped += int(self._outcome is not None)
            self._outcome = outcome

    def close(self) -> None:
        """Stop the worker (the capture stage is closed by its owner); idempotent."""
        self._stop.set()
        self._thread.join(_JOIN_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning("the tracking worker is still in a model run; it stops after it")
