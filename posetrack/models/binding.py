"""ONNX Runtime IO binding: a session's inputs and outputs bound once, reused every frame.

`session.run(names, feeds)` allocates its outputs anew on every call and, on CUDA, copies
every input up and every output down. `IoBinding` allocates one OrtValue per input and per
output on the session's device at construction (static shapes; a dynamic output lets ORT
allocate on the device), binds them once, and from then on a frame allocates nothing:

- a host numpy input is copied into its bound OrtValue with `update_inplace` (on the CPU
  provider a memcpy, on CUDA one host -> device copy); a producer that writes straight into
  `host_input(name)` (a numpy view of the CPU provider's bound buffer) skips even that copy;
- a `DeviceTensor` input is a pointer to memory that already lives on the GPU, bound with
  `bind_input(name, "cuda", device_id, dtype, shape, ptr)`: the model input never makes a host
  round trip. This is the seam for a GPU preprocess. A CuPy array gives
  `DeviceTensor(array.data.ptr, array.shape)`. The GL crop reaches CUDA in one of two ways:
  (1) the crop is written by the compute shader into a pixel buffer object (a GL buffer,
  `glBindBuffer(GL_PIXEL_PACK_BUFFER)` + `glGetTexImage` into it, or an SSBO written directly),
  registered once with `cudaGraphicsGLRegisterBuffer(buffer, cudaGraphicsRegisterFlagsReadOnly)`;
  each frame `cudaGraphicsMapResources` + `cudaGraphicsResourceGetMappedPointer` give the
  pointer for a DeviceTensor, and `cudaGraphicsUnmapResources` after the run hands it back to GL
  (its float32 NHWC layout is the model input's, so ORT reads it as it is); or (2) the crop
  texture itself, registered with `cudaGraphicsGLRegisterImage(texture, GL_TEXTURE_2D, ...)`,
  mapped to a `cudaArray` (`cudaGraphicsSubResourceGetMappedArray`) that a `cudaMemcpy2DFromArray`
  copies device to device into the bound input (`input_pointer(name)`). Both need the GL
  context and the CUDA context on the same GPU (`cudaGLGetDevices`); cuda-python exposes
  every call named here. Either way a frame moves no model input over PCIe;
- outputs named in `keep_on_device` are returned as the bound OrtValue itself (for a decode that
  runs on the GPU: its `data_ptr()` is device memory, valid until the next run); the others come
  back as host numpy arrays the caller owns (on CUDA the device -> host copy is that array; on
  the CPU provider a copy, since the bound buffer is overwritten by the next frame while a
  consumer may still hold this frame's arrays).

`total_uploaded` / `total_read_back` count the host <-> device bytes (0 on the CPU provider,
where nothing crosses a bus), as the GPU stages count theirs.

On the CPU provider the same code runs (ORT supports IO binding there too), which is how the
seam is tested on machines without a GPU (tests/test_io_binding.py).
"""

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from posetrack.errors import ModelError

NUMPY_OF = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8}


@dataclass(frozen=True)
class DeviceTensor:
    """A model input that already lives in device memory (a CUDA pointer), laid out as the
    model's input (contiguous, its shape and dtype). The producer's writes must be complete
    when `run` is called (synchronise its stream, or unmap the GL resource's writes first)."""

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
        self._specs = {i.name: i for i in session.get_inputs()}
        self.inputs: dict[str, ort.OrtValue] = {}  # allocated once (static shapes)
        self._bound_buffer: dict[str, bool] = {}  # False while a DeviceTensor is bound instead
        for spec in session.get_inputs():
            shape, dtype = _static(spec.shape), NUMPY_OF.get(spec.type)
            if shape is not None and dtype is not None:
                self.inputs[spec.name] = ort.OrtValue.ortvalue_from_shape_and_type(
                    shape, dtype, self.device, 0
                )
                self._binding.bind_ortvalue_input(spec.name, self.inputs[spec.name])
                self._bound_buffer[spec.name] = True
        self.outputs: dict[str, ort.OrtValue | None] = {}  # None: ORT allocates (dynamic shape)
        for output in session.get_outputs():
            shape = _static(output.shape)
            if shape is None or output.type not in NUMPY_OF:
                self._binding.bind_output(output.name, self.device)
                self.outputs[output.name] = None
                continue
            value = ort.OrtValue.ortvalue_from_shape_and_type(
                shape, NUMPY_OF[output.type], self.device, 0
            )
            self._binding.bind_ortvalue_output(output.name, value)
            self.outputs[output.name] = value
        self.total_uploaded = 0  # host -> device bytes since construction
        self.total_read_back = 0  # device -> host bytes since construction

    def host_input(self, name: str) -> np.ndarray | None:
        """A writable numpy view of the bound input buffer on the CPU provider (a producer that
        fills it in place saves the copy); None on CUDA or for a dynamic-shape input."""
        value = self.inputs.get(name)
        return value.numpy() if value is not None and self.device == "cpu" else None

    def input_pointer(self, name: str) -> int:
        """The device address of the bound input buffer (the target of a device -> device copy
        from a mapped GL texture); stable for the life of this binding."""
        if name not in self.inputs:
            raise ModelError(f"input {name!r} has no buffer of its own (dynamic shape)")
        return self.inputs[name].data_ptr()

    def run(self, feeds: dict[str, np.ndarray | DeviceTensor]) -> dict[str, object]:
        """Bind this frame's inputs, run, return every output (numpy, or the device OrtValue
        for the names in `keep_on_device`)."""
        for name, value in feeds.items():
            self._bind_input(name, value)
        try:
            self._session.run_with_iobinding(self._binding)
        except Exception as e:  # ORT's own untyped errors (a bad device pointer, say)
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"the model could not run on the bound inputs ({first})") from e
        values = self._binding.get_outputs()
        result: dict[str, object] = {}
        for name, value in zip(self.outputs, values, strict=True):
            if name in self.keep_on_device:
                result[name] = value
            elif self.device == "cpu":
                result[name] = value.numpy().copy()  # numpy() is a view of the bound buffer
            else:
                result[name] = value.numpy()  # the device -> host copy, a new array
                self.total_read_back += result[name].nbytes
        if self.keep_on_device and self.device == "cuda":
            self._binding.synchronize_outputs()  # a consumer on another stream sees them done
        return result

    def _bind_input(self, name: str, value: np.ndarray | DeviceTensor) -> None:
        spec = self._specs.get(name)
        if spec is None:
            raise ModelError(f"the model has no input {name!r} (it has {list(self._specs)})")
        want = NUMPY_OF.get(spec.type)
        if isinstance(value, DeviceTensor):
            _check(name, spec.shape, want, value.shape, value.dtype)
            if self.device != "cuda":
                raise ModelError(f"input {name!r} is on the GPU but the model runs on the CPU")
            self._binding.bind_input(
                name, "cuda", value.device_id, value.dtype, list(value.shape), value.ptr
            )
            self._bound_buffer[name] = False
            return
        if not isinstance(value, np.ndarray):
            raise ModelError(f"input {name!r} must be a numpy array, not {type(value).__name__}")
        _check(name, spec.shape, want, value.shape, value.dtype)
        buffer = self.inputs.get(name)
        if buffer is None:  # a dynamic-shape input: bound where it lies, as ORT allows
            self._binding.bind_cpu_input(name, np.ascontiguousarray(value))
            if self.device == "cuda":
                self.total_uploaded += value.nbytes
            return
        if not self._bound_buffer[name]:  # a DeviceTensor was bound last frame
            self._binding.bind_ortvalue_input(name, buffer)
            self._bound_buffer[name] = True
        if self.device == "cpu" and value.ctypes.data == buffer.data_ptr():
            return  # written in place through host_input(): nothing to copy
        buffer.update_inplace(np.ascontiguousarray(value))  # memcpy, or one host -> device copy
        if self.device == "cuda":
            self.total_uploaded += value.nbytes

    def close(self) -> None:
        self._binding.clear_binding_inputs()
        self._binding.clear_binding_outputs()
        self.inputs.clear()
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
