"""GPU stages on Panda3D's GL context: compute-shader preprocessing and heatmap decoding.

`GpuContext` owns or borrows the GL context; `GpuCropper` turns an uploaded frame into model
input tensors with the CPU path's exact answer; `GpuHeatmapDecoder` reduces heatmaps to K x 4
floats (argmax, BlazePose refinement, PoseNet's multi-person candidates).
"""

from posetrack.gpu.context import GpuContext
from posetrack.gpu.crop import GpuCropper
from posetrack.gpu.heatmaps import GpuHeatmapDecoder

__all__ = ["GpuContext", "GpuCropper", "GpuHeatmapDecoder"]
