"""ONNX Runtime IO binding: a session's inputs and outputs bound once, reused every frame.

`session.run(names, feeds)` allocates its outputs anew on every call and, on CUDA, copies
every input up and every output down. `IoBinding` binds each output to an OrtValue allocated
once on the session's device (static shapes; a dynamic one lets ORT allocate on the device),
so a frame allocates nothing and copies only what the caller asks for:

- inputs come as a host numpy array (bound as it is on the CPU provider; copied into a
  device OrtValue allocated once on CUDA) or as a `DeviceTensor`: a pointer to memory that
  already lives on the GPU. That is the seam for a GPU preprocess: a GL crop shared with
  CUDA (cudaGraphicsGLRegisterImage + cudaGraphicsMapResources on the crop texture, or a
  pixel buffer object registered with cudaGraphicsGLRegisterBuffer) or a CuPy array gives
  its device pointer here, and the model input never makes a host round trip;
- outputs named in `keep_on_device` are returned as the bound OrtValue itself (for a decode
  that runs on the GPU: its data_ptr() is device memory); the others are copied to host
  numpy arrays (a copy, because the bound buffers are overwritten by the next frame while a
  consumer may still hold this frame's arrays).

On the CPU provider the same code runs (ORT supports IO binding there too), which is how the
seam is tested on machines without a GPU.
"""

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from posetrack.errors import ModelError

_NUMPY_OF = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8}


@dataclass(frozen=True)
class DeviceTensor:
    """A model input that already lives in device memory (a CUDA pointer)."""

    ptr: int
    shape: tuple[int, ...]
    dtype: type = np.float32
    device_id: int = 0


class IoBinding:
    """The bound inputs and outputs of one session: `run(feeds)`, `close()`."""

    def __init__(
        self, session: ort.InferenceSession, keep_on_device: frozenset[str] = frozenset()
    ) -> None:
        self._session = session
        self.device = "cuda" if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
        self.keep_on_device = keep_on_device
        self._binding = session.io_binding()
        self._inputs = {i.name: i for i in session.get_inputs()}
        self._input_values: dict[str, ort.OrtValue] = {}  # device copies of host inputs (CUDA)
        self.outputs: dict[str, ort.OrtValue | None] = {}  # None: ORT allocates (dynamic shape)
        for output in session.get_outputs():
            shape = _static(output.shape)
            if shape is None or output.type not in _NUMPY_OF:
                self._binding.bind_output(output.name, self.device)
                self.outputs[output.name] = None
                continue
            value = ort.OrtValue.ortvalue_from_shape_and_type(
                shape, _NUMPY_OF[output.type], self.device, 0
            )
            self._binding.bind_ortvalue_output(output.name, value)
            self.outputs[output.name] = value

    def run(self, feeds: dict[str, np.ndarray | DeviceTensor]) -> dict[str, object]:
        """Bind this frame's inputs, run, return every output (numpy, or the device OrtValue
        for the names in `keep_on_device`)."""
        for name, value in feeds.items():
            self._bind_input(name, value)
        self._session.run_with_iobinding(self._binding)
        values = self._binding.get_outputs()
        result: dict[str, object] = {}
        for name, value in zip(self.outputs, values, strict=True):
            result[name] = value if name in self.keep_on_device else value.numpy().copy()
        return result

    def _bind_input(self, name: str, value: np.ndarray | DeviceTensor) -> None:
        spec = self._inputs.get(name)
        if spec is None:
            raise ModelError(f"the model has no input {name!r} (it has {list(self._inputs)})")
        want = _NUMPY_OF.get(spec.type)
        if isinstance(value, DeviceTensor):
            _check(name, spec.shape, want, value.shape, value.dtype)
            self._binding.bind_input(
                name, "cuda", value.device_id, value.dtype, list(value.shape), value.ptr
            )
            return
        _check(name, spec.shape, want, value.shape, value.dtype)
        if self.device == "cpu":  # bound where it lies: no copy, no allocation
            self._binding.bind_cpu_input(name, np.ascontiguousarray(value))
            return
        device_value = self._input_values.get(name)
        if device_value is None or tuple(device_value.shape()) != value.shape:
            device_value = ort.OrtValue.ortvalue_from_shape_and_type(
                value.shape, value.dtype, self.device, 0
            )  # once (again only if a dynamic input changes shape)
            self._input_values[name] = device_value
            self._binding.bind_ortvalue_input(name, device_value)
        device_value.update_inplace(np.ascontiguousarray(value))  # one host -> device copy

    def close(self) -> None:
        self._binding.clear_binding_inputs()
        self._binding.clear_binding_outputs()
        self._input_values.clear()
        self.outputs.clear()


def _static(shape: list) -> list[int] | None:
    return shape if all(isinstance(d, int) and d > 0 for d in shape) else None


def _check(name: str, want_shape: list, want_dtype: type | None, shape, dtype) -> None:  # noqa: ANN001
    """A wrong shape or dtype is a clear error here, not an ORT error from inside the run."""
    fits = len(shape) == len(want_shape) and all(
        not isinstance(w, int) or w == s for w, s in zip(want_shape, shape, strict=True)
    )
    if not fits or (want_dtype is not None and np.dtype(dtype) != np.dtype(want_dtype)):
        raise ModelError(
            f"input {name!r} must be {np.dtype(want_dtype).name if want_dtype else '?'} "
            f"{list(want_shape)}, got {np.dtype(dtype).name} {list(shape)}"
        )
