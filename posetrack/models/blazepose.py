"""BlazePose (lite / full / heavy) as a PoseModel: rotated ROI crop, landmark decode."""

import numpy as np

from posetrack.components import ModelInput, PoseEstimate, RegionOfInterest
from posetrack.models.blazepose_landmarks import decode_landmarks, landmark_crop
from posetrack.stages.crop_cpu import CropSpec
from posetrack.stages.decode_cpu import HeatmapOps


class BlazePose:
    uses_detector = True

    def __init__(self, name: str, keypoint_names: tuple[str, ...]) -> None:
        self.name = name
        self.keypoint_names = keypoint_names

    def crop(self, roi: RegionOfInterest) -> CropSpec:
        return landmark_crop(roi)

    def decode(
        self, outputs: dict[str, np.ndarray], model_input: ModelInput, ops: HeatmapOps
    ) -> tuple[list[PoseEstimate], np.ndarray | None]:
        pose, aux = decode_landmarks(
            outputs, model_input.crop_to_source, model_input.roi, refiner=ops.refine
        )
        return ([] if pose is None else [pose]), aux
