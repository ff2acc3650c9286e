"""What a model wants cropped out of a frame, and the CPU path that crops it.

A `CropSpec` is the whole contract between a model and a cropper: the affine map, the output
size, the value range and the border. The CPU path here (cv2.warpAffine) and the GPU path
(posetrack.stages.crop_gpu.GpuCropper, a compute shader) both take it and give the same tensor.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from posetrack.stages.geometry import invert_affine, warp_crop

# value range -> (scale, offset) applied to 0..255 RGB after the warp; float32 as MediaPipe does
VALUE_RANGES: dict[tuple[float, float], tuple[np.float32, np.float32]] = {
    (0.0, 1.0): (np.float32(1.0 / 255.0), np.float32(0.0)),  # BlazePose landmarks
    (-1.0, 1.0): (np.float32(2.0 / 255.0), np.float32(-1.0)),  # detector, PoseNet
    (0.0, 255.0): (np.float32(1.0), np.float32(0.0)),  # MoveNet (int32 input)
}


@dataclass(frozen=True)
class CropSpec:
    source_to_crop: np.ndarray  # 2 x 3 float64, what cv2.warpAffine takes
    width: int
    height: int
    value_range: tuple[float, float] = (0.0, 1.0)
    border: str = "zero"  # "zero" or "replicate" outside the frame
    dtype: str = "float32"  # "int32" for models that take whole 0..255 values

    @property
    def crop_to_source(self) -> np.ndarray:
        return invert_affine(self.source_to_crop)


def crop_tensor(frame_bgr: np.ndarray, spec: CropSpec) -> np.ndarray:
    """CPU path: [1, H, W, 3] RGB tensor in the spec's range and dtype."""
    crop = warp_crop(frame_bgr, spec.source_to_crop, spec.width, spec.height, spec.border)
    rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)  # per pixel, so converting after the warp is exact
    if spec.dtype == "int32":
        return rgb.astype(np.int32)[None]
    scale, offset = VALUE_RANGES[spec.value_range]
    return (rgb.astype(np.float32) * scale + offset)[None]


class CpuCropper:
    """The CPU cropper: stateless apart from its byte counters (always zero: no GPU)."""

    total_uploaded = 0
    total_read_back = 0

    def crop(self, frame_bgr: np.ndarray, frame_index: int, spec: CropSpec) -> np.ndarray:
        return crop_tensor(frame_bgr, spec)

    def close(self) -> None:
        pass
