"""ONNX Runtime sessions with a quiet, one-line choice of execution provider."""

import ctypes
import os
import sys
from functools import cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

from posetrack.components.tracker import DEVICES, Device
from posetrack.errors import ModelError

_QUIET = 4  # ORT severity FATAL: hides the multi-line CUDA load errors while we probe


@cache
def cuda_problem() -> str | None:
    """Why CUDA cannot be used here (None when an NVIDIA GPU and ORT's CUDA provider are there).

    Probed once per process without touching ORT, so a machine with no GPU prints nothing.
    """
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return "this onnxruntime build has no CUDA provider"
    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        driver = ctypes.CDLL(name)
    except OSError:
        return "no NVIDIA driver found"
    count = ctypes.c_int(0)
    if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return "the NVIDIA driver reports no usable GPU"
    return None if count.value > 0 else "no NVIDIA GPU found"


class OrtModel:
    """One ONNX Runtime session: construct, `run()`, `close()`."""

    def __init__(self, path: Path, device: Device = "auto", threads: int = 0) -> None:
        if device not in DEVICES:
            raise ModelError(f"unknown device {device!r}: use auto, cpu or cuda")
        self.path = path
        self.notice = ""  # one line saying which provider runs and why, empty if obvious
        want_cuda = device != "cpu"
        problem = cuda_problem() if want_cuda else None
        if device == "cuda" and problem:
            raise ModelError(f"--device cuda asked for, but {problem}; use --device cpu or auto")
        providers = ["CPUExecutionProvider"]
        if want_cuda and problem is None:
            _preload_cuda_libraries()
            providers.insert(0, "CUDAExecutionProvider")
        elif device == "auto":
            self.notice = f"inference on CPU ({problem})"
        self._session = _open(path, providers, threads)
        self.provider = self._session.get_providers()[0]
        if want_cuda and problem is None and self.provider != "CUDAExecutionProvider":
            if device == "cuda":
                raise ModelError("CUDA could not start (CUDA 13 / cuDNN 9 libraries missing?)")
            self.notice = "inference on CPU (CUDA libraries could not be loaded)"
        self.input_names = [i.name for i in self._session.get_inputs()]
        self.output_names = [o.name for o in self._session.get_outputs()]
        self.input_shapes = {i.name: i.shape for i in self._session.get_inputs()}

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once; returns every output by name."""
        if self._session is None:
            raise ModelError(f"{self.path.name}: session already closed")
        outputs = self._session.run(self.output_names, feeds)
        return dict(zip(self.output_names, outputs, strict=True))

    def close(self) -> None:
        self._session = None


def _open(path: Path, providers: list[str], threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = _QUIET
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    # ORT's workers spin for a while after each run by default; in a game the render loop and
    # the capture thread need those cores. Measured on the 2-core CI machine, Sports2D clip:
    # 33 -> 37-44 fps with spinning off (benchmarks/track_vs_mediapipe.py).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as e:  # ORT raises its own untyped errors for bad files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(
            f"{path} is not a loadable ONNX model ({first}); delete it and run "
            "`posetrack models fetch` to fetch and convert it again"
        ) from e


def _preload_cuda_libraries() -> None:
    """Let onnxruntime-gpu find CUDA/cuDNN from nvidia-* pip packages when they are there."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None and not os.environ.get("POSETRACK_NO_PRELOAD"):
        try:
            preload()
        except Exception:  # noqa: BLE001 - missing libraries are reported by the provider check
            pass
