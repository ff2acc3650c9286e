import esper
import numpy as np

from posetrack.components import (
    CameraFrame,
    ModelInput,
    ModelOutputs,
    PoseResult,
    RegionOfInterest,
    TrackingState,
)
from posetrack.models.blazepose_landmarks import roi_from_landmarks
from posetrack.models.pose_model import PoseModel
from posetrack.stages.decode_cpu import HeatmapOps
from posetrack.stages.one_euro import OneEuroFilter


class DecodeSystem(esper.Processor):
    """Turns raw model outputs into poses in source pixels.

    Reads CameraFrame, ModelInput and ModelOutputs. Writes PoseResult (named keypoints with
    confidences, world landmarks where the model has them) and TrackingState.next_roi: for a
    tracking model (BlazePose) the ROI for the next frame from these landmarks, or None when the
    pose is lost so the detector runs again. Heatmap work runs on the model's HeatmapOps: numpy,
    or compute shaders that read back K x 4 floats, never the heatmaps.
    The two alignment points that place that ROI are always smoothed, as in MediaPipe's
    PoseLandmarkFiltering (not switchable there either), so a jittery landmark never shakes
    the crop; the landmarks themselves are left raw.
    """

    def __init__(self, model: PoseModel, ops: HeatmapOps) -> None:
        self.model = model
        self.ops = ops
        self._roi_filters: dict[int, OneEuroFilter] = {}

    def process(self) -> None:
        query = esper.get_components(CameraFrame, ModelInput, ModelOutputs, TrackingState)
        for ent, (frame, model_input, outputs, state) in query:
            done = esper.try_component(ent, PoseResult)
            # already decoded for this frame
            if done is not None and done.frame == frame.index:
                continue
            esper.add_component(ent, self.decode(ent, frame, model_input, outputs, state))

    def decode(
        self,
        ent: int,
        frame: CameraFrame,
        model_input: ModelInput,
        outputs: ModelOutputs,
        state: TrackingState,
    ) -> PoseResult:
        """The frame's poses; sets state.next_roi (what process() does for entity `ent`)."""
        poses, aux = self.model.decode(outputs.arrays, model_input, self.ops)
        # tracking: the next frame is cropped where these landmarks are, or re-detected
        state.next_roi = None if aux is None else self._next_roi(ent, frame, model_input, aux)
        if aux is None:
            self._roi_filters.pop(ent, None)
        names = self.model.keypoint_names
        return PoseResult(frame.index, frame.time, names, poses, frame.t_capture)

    def _next_roi(
        self, ent: int, frame: CameraFrame, model_input: ModelInput, aux: np.ndarray
    ) -> RegionOfInterest:
        # MediaPipe's aux-landmark one_euro_filter: min_cutoff 0.01, beta 10, derivate_cutoff 1
        # (read from the 0.10.14 graph); speed measured in ROI sizes per second
        smooth = self._roi_filters.setdefault(ent, OneEuroFilter(0.01, 10.0, 1.0))
        roi = model_input.roi
        object_scale = (roi.width + roi.height) / 2.0
        aux = smooth(frame.time, aux, 1.0 / object_scale)
        height, width = frame.pixels.shape[:2]
        return roi_from_landmarks(aux, width, height)
