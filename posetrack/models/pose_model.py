"""What a pose model needs from the pipeline: its crop, and how to decode its outputs.

Each model family (BlazePose, PoseNet, MoveNet) is a small adapter with this surface, so the
stage systems stay the same whatever model runs. `HeatmapOps` is the decode backend: the numpy
path (`CpuHeatmapOps`) or the compute-shader path (posetrack.backends.GpuHeatmapOps).
"""

from typing import Protocol

import numpy as np

from posetrack.components import ModelInput, PoseEstimate, RegionOfInterest
from posetrack.crop import CropSpec
from posetrack.geometry import crop_matrix, pad_roi
from posetrack.heatmap_decode import posenet_keypoints
from posetrack.models.blazepose_landmarks import refine_from_heatmap
from posetrack.models.posenet_decode import Candidate, local_maxima


class HeatmapOps(Protocol):
    total_uploaded: int
    total_read_back: int

    def refine(self, landmarks_crop_px: np.ndarray, logits: np.ndarray, **kw) -> np.ndarray: ...
    def posenet(self, logits: np.ndarray, offsets: np.ndarray, stride: int) -> np.ndarray: ...
    def local_maxima(self, scores: np.ndarray, threshold: float) -> list[Candidate]: ...
    def close(self) -> None: ...


class CpuHeatmapOps:
    """The numpy decode path (and the reference the GPU path is tested against)."""

    total_uploaded = 0
    total_read_back = 0

    def refine(self, landmarks_crop_px: np.ndarray, logits: np.ndarray, **kw) -> np.ndarray:
        return refine_from_heatmap(landmarks_crop_px, logits, **kw)

    def posenet(self, logits: np.ndarray, offsets: np.ndarray, stride: int) -> np.ndarray:
        return posenet_keypoints(logits, offsets, stride)

    def local_maxima(self, scores: np.ndarray, threshold: float) -> list[Candidate]:
        return local_maxima(scores, threshold)

    def close(self) -> None:
        pass


class PoseModel(Protocol):
    name: str
    keypoint_names: tuple[str, ...]
    uses_detector: bool  # a person detector picks the ROI when tracking is lost (BlazePose)

    def crop(self, roi: RegionOfInterest) -> CropSpec:
        """The model input's crop of the frame for this ROI (full-frame models get the frame)."""
        ...

    def decode(
        self, outputs: dict[str, np.ndarray], model_input: ModelInput, ops: HeatmapOps
    ) -> tuple[list[PoseEstimate], np.ndarray | None]:
        """Poses in source pixels, best first, and what places the next ROI (or None)."""
        ...


class FullFrameModel:
    """Base of the models that see the whole frame, letterboxed into a square input (PoseNet,
    MoveNet): squashing the frame to the square would bend the bodies the model sees."""

    uses_detector = False
    value_range: tuple[float, float] = (0.0, 1.0)
    dtype = "float32"

    def __init__(
        self, name: str, keypoint_names: tuple[str, ...], input_shape: tuple, max_poses: int
    ) -> None:
        self.name = name
        self.keypoint_names = keypoint_names
        self.size = int(input_shape[1])  # NHWC, square
        self.max_poses = max_poses

    def crop(self, roi: RegionOfInterest) -> CropSpec:
        matrix = crop_matrix(pad_roi(roi, self.size, self.size), self.size, self.size)
        return CropSpec(matrix, self.size, self.size, self.value_range, "zero", self.dtype)


def load_pose_model(name: str, max_poses: int = 1) -> PoseModel:
    """The adapter for a model name from posetrack.models.zoo."""
    from posetrack.errors import PosetrackError
    from posetrack.models import zoo

    spec = zoo.spec(name)
    if not spec.keypoints:
        raise PosetrackError(f"{name} is not a pose model: pick one with keypoints")
    if name.startswith("blazepose"):
        from posetrack.models.blazepose import BlazePose

        return BlazePose(name, spec.keypoints)
    if name == "posenet":
        from posetrack.models.posenet import PoseNet

        return PoseNet(name, spec.keypoints, spec.input_shape, max_poses)
    from posetrack.models.movenet import MoveNet

    return MoveNet(name, spec.keypoints, spec.input_shape, max_poses)
