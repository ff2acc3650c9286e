"""The tracker's hand-over: frames in, outcomes applied to the tracker entity (the host's thread).

Lockstep (no worker): take the next frame from the capture stage and run the pose stages on it
right here, every frame in order. Live (a LiveWorker): take the worker's newest outcome, if any.
Either way an outcome is written the same way (`_apply`): the frame's components, its stage
times, the status (through the TrackingGuard), and the capture -> applied latency.
"""

import statistics
import time
from collections import deque
from collections.abc import Iterable

import esper

from posetrack.components import (
    CameraFrame,
    ModelInput,
    ModelOutputs,
    RegionOfInterest,
    StageTimes,
)
from posetrack.errors import PosetrackError
from posetrack.stages.guard import TrackingGuard
from posetrack.stages.live import LiveWorker
from posetrack.stages.pipeline import FrameOutcome, FramePipeline
from posetrack.systems.capture import CaptureSystem

LATENCY_WINDOW = 300  # frames the latency figures cover: 10 s at 30 fps


def percentile(values: Iterable[float], q: float) -> float:
    """The value below which a share `q` of `values` falls (nearest rank); nan when empty."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class HandOver:
    """One step per host frame (`step`); see the module docstring."""

    def __init__(
        self,
        entity: int,
        capture: CaptureSystem,
        pipeline: FramePipeline,
        guard: TrackingGuard,
        worker: LiveWorker | None,
        degrade: bool,
    ) -> None:
        self.entity, self.capture, self.pipeline = entity, capture, pipeline
        self._guard, self._worker, self.degrade = guard, worker, degrade
        self._last_frame = -1  # the CameraFrame.index last run through the pose stages
        self.latencies_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)

    @property
    def dropped_frames(self) -> int:
        worker = self._worker.dropped if self._worker is not None else 0
        return self.capture.dropped + worker

    def latency_ms(self) -> dict[str, float]:
        values = list(self.latencies_ms)
        if not values:
            return {"median": 0.0, "p95": 0.0, "frames": 0}
        return {"median": statistics.median(values), "p95": percentile(values, 0.95),
                "frames": len(values)}  # fmt: skip

    def step(self, times: StageTimes) -> None:
        """The newest outcome (live) or the next frame run here (lockstep), applied."""
        if self._worker is not None:
            self._take_from_worker()
        else:
            self._run_next_frame(times)

    def _run_next_frame(self, times: StageTimes) -> None:
        start = time.perf_counter()
        try:
            self.capture.process()
        except Exception as error:
            if not self.degrade:
                raise
            self._guard.fail("capture", error)
            return
        finally:
            times.ms["capture"] = (time.perf_counter() - start) * 1000.0
        self._guard.check_end()
        frame = esper.try_component(self.entity, CameraFrame)
        if frame is not None and frame.index != self._last_frame:
            self._apply(self.pipeline.run(frame))

    def _take_from_worker(self) -> None:
        try:
            outcome, end = self._worker.take()
        except PosetrackError as error:  # the worker itself broke: no more poses
            if not self.degrade:
                raise
            self._guard.fail("worker", error)
            return
        if outcome is not None:
            self._apply(outcome)
        if end is not None:
            try:
                self.capture.end_of_stream(end)
            except Exception as error:
                if not self.degrade:
                    raise
                self._guard.fail("capture", error)
                return
            self._guard.check_end()

    def _apply(self, outcome: FrameOutcome) -> None:
        """Write one frame's outcome on the tracker entity (the host's thread only)."""
        self._last_frame = outcome.frame.index
        times = esper.component_for_entity(self.entity, StageTimes)
        times.ms = {"capture": times.ms.get("capture", 0.0), **outcome.ms}
        times.bytes_up, times.bytes_down = dict(outcome.bytes_up), dict(outcome.bytes_down)
        esper.add_component(self.entity, outcome.frame)
        derived = ((RegionOfInterest, outcome.roi), (ModelInput, outcome.model_input),
                   (ModelOutputs, outcome.outputs))  # fmt: skip
        for kind, value in derived:
            if value is None:
                esper.try_remove_component(self.entity, kind)
            else:
                esper.add_component(self.entity, value)
        if outcome.failure is not None:
            stage, error = outcome.failure
            if not self.degrade:
                raise error
            self._guard.fail(stage, error)
        else:
            esper.add_component(self.entity, outcome.result)
            self._guard.settle()
        if outcome.filtered is not None:
            esper.add_component(self.entity, outcome.filtered)
        self.latencies_ms.append((time.perf_counter() - outcome.frame.t_capture) * 1000.0)
