"""GPU stages on Panda3D's GL context: compute-shader preprocessing (and, later, decoding).

`GpuContext` owns or borrows the GL context; `GpuCropper` turns an uploaded frame into model
input tensors with the CPU path's exact answer.
"""

from posetrack.gpu.context import GpuContext
from posetrack.gpu.crop import GpuCropper

__all__ = ["GpuContext", "GpuCropper"]
