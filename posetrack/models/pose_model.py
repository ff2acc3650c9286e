"""What a pose model needs from the pipeline: its crop, and how to decode its outputs.

Each model family (BlazePose, PoseNet, MoveNet) is a small adapter with this surface, so the
stage systems stay the same whatever model runs. `HeatmapOps` is the decode backend: the numpy
path (stages/decode_cpu.CpuHeatmapOps) or the compute shaders (stages/decode_gpu.GpuHeatmapOps).
models/adapters.py picks the adapter for a model name.
"""

from typing import Protocol

import numpy as np

from posetrack.components import ModelInput, PoseEstimate, RegionOfInterest
from posetrack.stages.crop_cpu import CropSpec
from posetrack.stages.decode_cpu import HeatmapOps
from posetrack.stages.geometry import crop_matrix, pad_roi


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
