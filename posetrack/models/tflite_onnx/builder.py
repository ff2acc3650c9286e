"""The ONNX graph under construction, and the layout (NHWC or NCHW) of every 4-D value in it.

TFLite keeps images NHWC; ONNX Conv wants NCHW. Rather than wrapping each convolution in a
Transpose pair, every 4-D activation is kept NCHW once it has been transposed, and a Transpose
is inserted only where a consumer needs the other layout (the graph input, a RESHAPE of a
4-D tensor, a 4-D graph output). Each conversion is made once and shared by all consumers.
"""

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import helper, numpy_helper

from posetrack.errors import UnsupportedModelError
from posetrack.models.tflite_onnx.reader import Graph, Tensor

NHWC, NCHW = "NHWC", "NCHW"
TO_NCHW = (0, 3, 1, 2)  # NCHW axis i is NHWC axis TO_NCHW[i]
TO_NHWC = (0, 2, 3, 1)  # NHWC axis i is NCHW axis TO_NHWC[i]


def nchw_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The NCHW shape of a 4-D NHWC shape."""
    return tuple(shape[i] for i in TO_NCHW)


def nhwc_const_to_nchw(value: np.ndarray) -> np.ndarray:
    """A constant that broadcasts against an NHWC tensor, made to broadcast against NCHW."""
    expanded = value.reshape((1,) * (4 - value.ndim) + value.shape)
    return np.ascontiguousarray(expanded.transpose(TO_NCHW))


def _is_pure_reshape(shape: tuple[int, ...], perm: tuple[int, ...]) -> bool:
    """True if transposing `shape` by `perm` only moves size-1 axes (a reshape does the same)."""
    moved = [axis for axis in perm if shape[axis] != 1]
    return moved == sorted(moved)


@dataclass
class Value:
    """Where a TFLite tensor lives in the ONNX graph: one name per layout it exists in."""

    names: dict[str, str]  # layout (NHWC / NCHW, or "" for non-4-D) -> ONNX value name


@dataclass
class OnnxBuilder:
    """Collects nodes and initializers; maps TFLite tensor indices to ONNX values."""

    graph: Graph
    constants: dict[int, np.ndarray]
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    values: dict[int, Value] = field(default_factory=dict)
    _count: int = 0
    _shared: dict[str, str] = field(default_factory=dict)

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def fresh(self, hint: str) -> str:
        """A new unique ONNX value name."""
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: np.ndarray, hint: str = "const") -> str:
        """Add an initializer; returns its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def shared_const(self, key: str, value: np.ndarray) -> str:
        """An initializer made once per `key` and shared by every node that uses it."""
        if key not in self._shared:
            self._shared[key] = self.const(value, key)
        return self._shared[key]

    def node(self, op_type: str, inputs: list[str], hint: str, **attrs: object) -> str:
        """Add a single-output node; returns its output name."""
        out = self.fresh(hint)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def constant(self, index: int) -> np.ndarray | None:
        """The folded value of a constant tensor (None if it is computed at run time)."""
        if index in self.constants:
            return self.constants[index]
        tensor = self.tensor(index)
        if tensor.data is not None and tensor.sparsity is None:
            return tensor.data
        return None

    def require_constant(self, index: int, role: str) -> np.ndarray:
        value = self.constant(index)
        if value is None:
            raise UnsupportedModelError(
                f"{role} {self.tensor(index).name!r} is computed at run time; "
                "this converter needs it to be a constant"
            )
        return value

    def set(self, index: int, name: str, layout: str = "") -> None:
        """Record that TFLite tensor `index` is ONNX value `name`, in `layout`."""
        if len(self.tensor(index).shape) != 4:
            layout = ""
        self.values[index] = Value({layout: name})

    def get(self, index: int, layout: str = "") -> str:
        """The ONNX value of TFLite tensor `index`, in `layout` if it is 4-D."""
        if index not in self.values:
            value = self.constant(index)
            if value is None:
                raise UnsupportedModelError(f"tensor {self.tensor(index).name!r} has no producer")
            stored = layout if value.ndim == 4 and layout else ""
            array = value.transpose(TO_NCHW) if stored == NCHW else value
            self.values[index] = Value({stored: self.const(array, "w")})
        names = self.values[index].names
        if "" in names:
            return names[""]
        if not layout or layout in names:
            return names[layout] if layout else next(iter(names.values()))
        source = NHWC if layout == NCHW else NCHW
        perm = TO_NCHW if layout == NCHW else TO_NHWC
        stored_shape = self.shape(index, source)
        if _is_pure_reshape(stored_shape, perm):
            target = tuple(stored_shape[i] for i in perm)
            shape = self.const(np.asarray(target, np.int64), "shape")
            names[layout] = self.node("Reshape", [names[source], shape], f"to_{layout.lower()}")
        else:
            names[layout] = self.node("Transpose", [names[source]], f"to_{layout.lower()}",
                                      perm=list(perm))  # fmt: skip
        return names[layout]

    def shape(self, index: int, layout: str = "") -> tuple[int, ...]:
        """The static shape of TFLite tensor `index` in `layout`."""
        shape = self.tensor(index).shape
        return nchw_shape(shape) if layout == NCHW and len(shape) == 4 else shape
