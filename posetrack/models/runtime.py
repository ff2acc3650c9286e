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
from posetrack.models.binding import NUMPY_OF, IoBinding

_QUIET = 4  # ORT severity FATAL: hides the multi-line CUDA load errors while we probe

# The CUDA provider as a real-time app wants it: the arena grows by what is asked (not by
# doubling: a game shares the GPU); cuDNN picks its convolution algorithms by heuristics, once
# per shape, at the warm-up run OrtModel makes at start (EXHAUSTIVE benchmarks every algorithm:
# seconds at start-up, for a gain ORT's own notes put at a few percent, and our shapes never
# change, so the choice is made once either way); copies run on the compute stream (no extra
# synchronisation between the copy of a frame's input and the run that reads it).
CUDA_OPTIONS = {
    "arena_extend_strategy": "kSameAsRequested",
    "cudnn_conv_algo_search": "HEURISTIC",
    "do_copy_in_default_stream": "1",
}


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
    """One ONNX Runtime session: construct, `run()`, `close()`.

    `io_binding`: run through an IoBinding (models/binding.py: inputs and outputs allocated
    once on the device, inputs from host arrays or device pointers). None: on for CUDA, off for
    the CPU provider, where it gains nothing measurable (benchmarks/io_binding.py; see
    docs/gpu-paths.md for the figures) and outputs are bit-identical either way.
    `keep_on_device`: output names a bound run returns as device OrtValues (a GPU decode).
    `total_uploaded` / `total_read_back`: host <-> device bytes the runs moved (CUDA only),
    the counters FramePipeline reads per stage.
    """

    def __init__(
        self,
        path: Path,
        device: Device = "auto",
        threads: int = 0,
        io_binding: bool | None = None,
        keep_on_device: frozenset[str] = frozenset(),
    ) -> None:
        if device not in DEVICES:
            raise ModelError(f"unknown device {device!r}: use auto, cpu or cuda")
        self.path = path
        self.notice = ""  # one line saying which provider runs and why, empty if obvious
        want_cuda = device != "cpu"
        problem = cuda_problem() if want_cuda else None
        if device == "cuda" and problem:
            raise ModelError(f"--device cuda asked for, but {problem}; use --device cpu or auto")
        providers: list = ["CPUExecutionProvider"]
        if want_cuda and problem is None:
            _preload_cuda_libraries()
            providers.insert(0, ("CUDAExecutionProvider", CUDA_OPTIONS))
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
        on_cuda = self.provider == "CUDAExecutionProvider"
        if io_binding is None:
            io_binding = on_cuda
        self.binding = IoBinding(self._session, keep_on_device) if io_binding else None
        self._plain_uploaded = self._plain_read_back = 0  # session.run's traffic on CUDA
        if on_cuda:  # cuDNN's algorithm choice and CUDA's kernel loads now, not at frame one
            self._warm_up()

    @property
    def total_uploaded(self) -> int:
        bound = self.binding.total_uploaded if self.binding is not None else 0
        return bound + self._plain_uploaded

    @property
    def total_read_back(self) -> int:
        bound = self.binding.total_read_back if self.binding is not None else 0
        return bound + self._plain_read_back

    def _warm_up(self) -> None:
        """One run on zeros: every model in the zoo has static input shapes and types."""
        specs = self._session.get_inputs()
        if all(s.type in NUMPY_OF and all(isinstance(d, int) for d in s.shape) for s in specs):
            self.run({s.name: np.zeros(s.shape, NUMPY_OF[s.type]) for s in specs})

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once; returns every output by name."""
        if self._session is None:
            raise ModelError(f"{self.path.name}: session already closed")
        if self.binding is not None:
            return self.binding.run(feeds)
        outputs = self._session.run(self.output_names, feeds)
        if self.provider == "CUDAExecutionProvider":  # each input up, each output down
            self._plain_uploaded += sum(v.nbytes for v in feeds.values())
            self._plain_read_back += sum(o.nbytes for o in outputs)
        return dict(zip(self.output_names, outputs, strict=True))

    def close(self) -> None:
        if self.binding is not None:
            self.binding.close()
            self.binding = None
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
