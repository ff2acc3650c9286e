"""Where preprocessing and decoding run: `auto | gpu | cpu`, and the GPU-path owners.

auto picks the GPU path on a hardware GL renderer and the CPU path on a software one (Mesa's
llvmpipe is slower than OpenCV and numpy on the same cores: measured in benchmarks/), and says
which it chose. Both paths give the same answers (tests/test_gpu_*.py, tests/test_backends.py).
Every host <-> GPU byte is counted: `total_uploaded`, `total_read_back`.
"""

from dataclasses import dataclass, field

import numpy as np

from posetrack.components.tracker import BACKENDS
from posetrack.errors import PosetrackError
from posetrack.stages.crop_cpu import CpuCropper, CropSpec
from posetrack.stages.decode_cpu import CpuHeatmapOps
from posetrack.stages.gl_fallback import ContextWatch, GlFallback


@dataclass
class BackendChoice:
    preprocess: str  # "gpu" or "cpu": what runs
    decode: str
    renderer: str = ""  # the GL renderer the GPU path would use, when one was found
    notice: str = ""  # one line for the user when auto fell back or chose the CPU
    context: object | None = field(default=None, repr=False)  # GpuContext when a path uses it


def choose_backends(preprocess: str, decode: str, context: object | None = None) -> BackendChoice:
    """Resolve `auto`. The GL context: the one given, else a running ShowBase's (a second
    context beside a game's window breaks its rendering: posetrack/stages/gpu_context.py), else a
    headless one of our own, opened only when a GPU path may run."""
    for stage, wanted in (("preprocess", preprocess), ("decode", decode)):
        if wanted not in BACKENDS:
            raise PosetrackError(f"--{stage} must be auto, gpu or cpu, not {wanted!r}")
    if preprocess == decode == "cpu":
        return BackendChoice("cpu", "cpu")
    if context is None:
        context = _running_showbase_context()
    owned = context is None
    if owned:
        from posetrack.stages.gpu_context import (
            GpuContext,  # lazy: Panda3D's GL loads for a GPU path only
        )

        try:
            context = GpuContext.headless()
        except PosetrackError as e:
            if "gpu" in (preprocess, decode):
                raise PosetrackError(f"the GPU path was asked for, but {e}") from e
            return BackendChoice("cpu", "cpu", notice=f"preprocess and decode on CPU ({e})")
    software = context.is_software
    chosen = {
        stage: ("cpu" if software else "gpu") if wanted == "auto" else wanted
        for stage, wanted in (("preprocess", preprocess), ("decode", decode))
    }
    notice = ""
    automatic = [stage for stage, wanted in (("preprocess", preprocess), ("decode", decode))
                 if wanted == "auto"]  # fmt: skip
    if software and automatic:
        notice = (f"auto chose the CPU path for {' and '.join(automatic)}: {context.renderer} "
                  "renders in software")  # fmt: skip
    renderer = context.renderer
    if "gpu" not in chosen.values() and owned:
        context.close()
        context = None
    return BackendChoice(chosen["preprocess"], chosen["decode"], renderer, notice, context)


def _running_showbase_context() -> object | None:
    """The GL context of the ShowBase running in this process, if one has a window."""
    import builtins  # lazy: read only when no context was lent

    base = getattr(builtins, "base", None)  # ShowBase publishes itself there
    win = getattr(base, "win", None)
    if win is None or win.get_gsg() is None:
        return None
    from posetrack.stages.gpu_context import (
        GpuContext,  # lazy: Panda3D's GL loads for a GPU path only
    )

    return GpuContext.from_showbase(base)


class GpuCroppers:
    """The compute-shader crop, one GpuCropper per crop shape, each frame uploaded once each."""

    def __init__(self, context) -> None:
        self.context = context
        self._croppers: dict[tuple, object] = {}
        self._frame_of: dict[tuple, int] = {}
        self.total_uploaded = 0
        self.total_read_back = 0

    def crop(self, frame_bgr: np.ndarray, frame_index: int, spec: CropSpec) -> np.ndarray:
        from posetrack.stages.crop_gpu import (
            GpuCropper,  # lazy: Panda3D's GL loads for a GPU path only
        )

        key = (spec.width, spec.height, spec.value_range, spec.border)
        cropper = self._croppers.get(key)
        if cropper is None:
            cropper = GpuCropper(self.context, spec.width, spec.height, "NHWC",
                                 spec.value_range, spec.border)  # fmt: skip
            self._croppers[key] = cropper
        if self._frame_of.get(key) != frame_index:
            cropper.upload(frame_bgr)
            self._count(cropper)
            self._frame_of[key] = frame_index
        tensor = cropper.crop(spec.source_to_crop)
        self._count(cropper)
        return np.rint(tensor).astype(np.int32) if spec.dtype == "int32" else tensor

    def _count(self, gpu) -> None:
        self.total_uploaded += gpu.bytes_uploaded
        self.total_read_back += gpu.bytes_read_back

    def close(self) -> None:
        for cropper in self._croppers.values():
            cropper.close()
        self._croppers.clear()


def make_paths(choice: BackendChoice) -> tuple[object, object]:
    """(cropper, heatmap ops) for a choice; the caller closes both, then the context."""
    # a GPU path carries on on its CPU twin if the host closes the window its context lives on
    watch = ContextWatch(choice.context)
    cropper: object = CpuCropper()
    if choice.preprocess == "gpu":
        cropper = GlFallback(GpuCroppers(choice.context), CpuCropper, watch, "preprocess")
    if choice.decode != "gpu":
        return cropper, CpuHeatmapOps()
    from posetrack.stages.decode_gpu import (
        GpuHeatmapOps,  # lazy: Panda3D's GL loads for a GPU path only
    )

    ops = GpuHeatmapOps(choice.context)
    return cropper, GlFallback(ops, CpuHeatmapOps, watch, "decode")
