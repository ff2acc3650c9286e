"""One frame through the pose stages, off esper: what a worker thread can run.

esper keeps its worlds in module state shared by every thread, so the stage processors' own
`process()` (which read and write components) may only run on the host's thread. The slow part
of each stage is a plain method of its processor (DetectSystem.choose_roi,
PreprocessSystem.prepare, InferenceSystem.infer, DecodeSystem.decode, FilterSystem.smooth);
`FramePipeline.run(frame)` chains those for one CameraFrame and returns a `FrameOutcome`: every
component the frame produced, the stage times, and the failure if a stage raised. The tracker
writes the outcome onto its entity on the host's thread (PoseTrackingSystem._apply), whichever
thread ran it: the caller's (`posetrack track`, results(): every frame, in order) or a
`LiveWorker`'s (a game: the newest frame, stages/live.py).
"""

import time
from dataclasses import dataclass, field

from posetrack.components import (
    CameraFrame,
    ModelInput,
    ModelOutputs,
    PoseResult,
    RegionOfInterest,
    TrackingState,
)
from posetrack.components.character import FilterConfig, FilteredPose
from posetrack.stages.guard import NonFiniteOutputError, check_finite_outputs, finite_poses
from posetrack.stages.identity import IdentityState, assign_players
from posetrack.stages.swaps import SwapGuard
from posetrack.systems.decode import DecodeSystem
from posetrack.systems.detect import DetectSystem
from posetrack.systems.filter import FilterSystem
from posetrack.systems.inference import InferenceSystem
from posetrack.systems.preprocess import PreprocessSystem


@dataclass
class FrameOutcome:
    """Everything one frame produced. `result` is always set (no poses when nobody is in view
    or a stage failed); `failure` is (stage, error) when a stage raised."""

    frame: CameraFrame
    result: PoseResult
    roi: RegionOfInterest | None = None
    model_input: ModelInput | None = None
    outputs: ModelOutputs | None = None
    filtered: FilteredPose | None = None
    failure: tuple[str, Exception] | None = None
    ms: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
    bytes_up: dict[str, int] = field(default_factory=dict)  # stage -> bytes sent to the GPU
    bytes_down: dict[str, int] = field(default_factory=dict)  # stage -> bytes read back


class FramePipeline:
    """detect -> preprocess -> inference -> decode (-> filter) for one frame; see the module
    docstring. Owns nothing (the tracker closes the models and GPU paths); one thread at a
    time runs it."""

    def __init__(
        self,
        entity: int,
        state: TrackingState,
        detect: DetectSystem,
        preprocess: PreprocessSystem,
        inference: InferenceSystem,
        decode: DecodeSystem,
        counters: dict[str, object],
    ) -> None:
        self.entity = entity  # the tracker entity: the key of the decode and filter state
        self.state = state
        self.detect, self.preprocess = detect, preprocess
        self.inference, self.decode = inference, decode
        self.counters = counters  # stage -> object with total_uploaded / total_read_back
        self.stills = False  # unrelated images: each frame is detected afresh
        self.filter: FilterSystem | None = None
        self.identity: IdentityState | None = None  # several people: player slots kept
        # what the filter runs; the host's thread may swap it (a plain attribute: atomic)
        self.filter_config: FilterConfig | None = None
        # left/right swap correction after decode, before the filter (None: off)
        self.swaps: SwapGuard | None = None

    def run(self, frame: CameraFrame) -> FrameOutcome:
        out = FrameOutcome(frame, self.detect.nobody(frame))
        if self.stills:  # another picture: the last one's landmarks say nothing about it
            self.state.next_roi = None
            if self.identity is not None:
                self.identity = IdentityState(self.identity.slots)
            if self.swaps is not None:
                self.swaps.reset()
        stage = "detect"
        try:
            # the ROI: tracked from the last landmarks, else the detector's; none: nobody
            out.roi = self._timed(out, stage, lambda: self.detect.choose_roi(frame, self.state))
            if out.roi is not None:
                stage = "preprocess"  # crop, resize, normalise the ROI into the model input
                out.model_input = self._timed(
                    out, stage, lambda: self.preprocess.prepare(frame, out.roi)
                )
                stage = "inference"  # the model, and no NaN past it
                out.outputs = self._timed(out, stage, lambda: self._infer(out.model_input))
                stage = "decode"  # keypoints in source pixels; the next frame's ROI
                out.result = self._timed(out, stage, lambda: self._decode(frame, out))
        except Exception as error:
            out.failure = (stage, error)
            out.result = self.detect.nobody(frame)
            self.state.next_roi = None  # landmarks we no longer trust: detect afresh
            if self.swaps is not None:
                self.swaps.reset()
        if self.filter is not None and self.filter_config is not None:
            config = self.filter_config
            if self.stills:  # nothing to smooth across: another picture
                self.filter.forget(self.entity)
            out.filtered = self._timed(
                out, "filter", lambda: self.filter.smooth(self.entity, out.result, config)
            )
        return out

    def _infer(self, model_input: ModelInput) -> ModelOutputs:
        outputs = self.inference.infer(model_input)
        check_finite_outputs(outputs)
        return outputs

    def _decode(self, frame: CameraFrame, out: FrameOutcome) -> PoseResult:
        result = self.decode.decode(self.entity, frame, out.model_input, out.outputs, self.state)
        if not finite_poses(result):
            raise NonFiniteOutputError("decoding gave NaN or inf keypoints")
        if self.identity is not None:  # who is who: poses in player order
            result = assign_players(self.identity, result)
        return result if self.swaps is None else self.swaps(result)

    def _timed(self, out: FrameOutcome, stage: str, step):  # noqa: ANN001, ANN202
        counter = self.counters.get(stage)
        before = (counter.total_uploaded, counter.total_read_back) if counter else (0, 0)
        start = time.perf_counter()
        try:
            return step()
        finally:
            out.ms[stage] = (time.perf_counter() - start) * 1000.0
            if counter is not None:
                out.bytes_up[stage] = counter.total_uploaded - before[0]
                out.bytes_down[stage] = counter.total_read_back - before[1]
