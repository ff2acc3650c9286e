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
from posetrack.filters import OneEuroFilter
from posetrack.models.blazepose_landmarks import decode_landmarks, roi_from_landmarks


class DecodeSystem(esper.Processor):
    """Turns raw landmark-model outputs into a pose in source pixels.

    Reads CameraFrame, ModelInput and ModelOutputs. Writes PoseResult (33 named keypoints,
    visibility as confidence, world landmarks) and TrackingState.next_roi: the ROI for the next
    frame from these landmarks, or None when the pose is lost so the detector runs again.
    The two alignment points that place that ROI are always smoothed, as in MediaPipe's
    PoseLandmarkFiltering (not switchable there either), so a jittery landmark never shakes
    the crop; the landmarks themselves are left raw.
    """

    def __init__(self, keypoint_names: tuple[str, ...], refine: bool = True) -> None:
        self.keypoint_names = keypoint_names
        self.refine = refine  # MediaPipe's heatmap refinement of the regressed landmarks
        self._roi_filters: dict[int, OneEuroFilter] = {}

    def process(self) -> None:
        query = esper.get_components(CameraFrame, ModelInput, ModelOutputs, TrackingState)
        for ent, (frame, model_input, outputs, state) in query:
            done = esper.try_component(ent, PoseResult)
            # already decoded for this frame
            if done is not None and done.frame == frame.index:
                continue
            pose, aux = decode_landmarks(
                outputs.arrays, model_input.crop_to_source, model_input.roi, refine=self.refine
            )
            # tracking: the next frame is cropped where these landmarks are, or re-detected
            state.next_roi = None if pose is None else self._next_roi(ent, frame, model_input, aux)
            if pose is None:
                self._roi_filters.pop(ent, None)
            poses = [] if pose is None else [pose]
            result = PoseResult(
                frame.index, frame.time, self.keypoint_names, poses, frame.t_capture
            )
            esper.add_component(ent, result)

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
