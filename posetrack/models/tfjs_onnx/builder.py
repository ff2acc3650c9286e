"""The ONNX graph under construction: TF tensors as values with static shapes and layouts.

Every TF tensor becomes a `Value` with a static shape and dtype (the input size is fixed at
conversion). A value whose inputs are all constants is folded with numpy and stays a
constant; an initializer is made only when a computed value reads it.

TF keeps images NHWC; ONNX Conv wants NCHW. A 4-D value may exist in either layout (or both):
convolutions produce NCHW, layout-free ops (elementwise, resize, concat on channels) keep it,
and a Transpose back to NHWC is made once, only where a consumer needs TF's memory order
(Reshape, GatherNd, a graph output ...).
"""

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import helper, numpy_helper

NHWC, NCHW = "NHWC", "NCHW"
TO_NCHW = (0, 3, 1, 2)  # NCHW axis i is NHWC axis TO_NCHW[i]
TO_NHWC = (0, 2, 3, 1)  # NHWC axis i is NCHW axis TO_NHWC[i]
ONNX_TYPES = {
    np.dtype(np.float32): onnx.TensorProto.FLOAT,
    np.dtype(np.int32): onnx.TensorProto.INT32,
    np.dtype(np.int64): onnx.TensorProto.INT64,
    np.dtype(np.bool_): onnx.TensorProto.BOOL,
}


def ref(tensor: str) -> str:
    """A tensor reference in canonical form `node:k`."""
    return tensor if ":" in tensor else f"{tensor}:0"


def to_nchw_const(value: np.ndarray) -> np.ndarray:
    """A constant that broadcasts against an NHWC tensor, made to broadcast against NCHW."""
    expanded = value.reshape((1,) * (4 - value.ndim) + value.shape)
    return np.ascontiguousarray(expanded.transpose(TO_NCHW))


@dataclass
class Value:
    """One TF tensor: static shape/dtype, and a constant or its ONNX names per layout."""

    shape: tuple[int, ...]
    dtype: np.dtype
    const: np.ndarray | None = None
    names: dict[str, str] = field(default_factory=dict)  # NHWC / NCHW (4-D) or "" -> name

    @property
    def is_const(self) -> bool:
        return self.const is not None


@dataclass
class OnnxBuilder:
    """Collects nodes and initializers; hands out ONNX names of values in a wanted layout."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    _count: int = 0
    _shared: dict[tuple, str] = field(default_factory=dict)

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint.rsplit('/', 1)[-1]}_{self._count}"

    def const(self, value: np.ndarray, hint: str = "const") -> str:
        """An initializer holding `value` (identical small constants are shared)."""
        value = np.ascontiguousarray(value)
        key = (value.dtype.str, value.shape, value.tobytes()) if value.size <= 64 else None
        if key is not None and key in self._shared:
            return self._shared[key]
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(value, name))
        if key is not None:
            self._shared[key] = name
        return name

    def ints(self, values: list[int] | tuple[int, ...]) -> str:
        """An int64 1-D initializer (shapes, axes, pads)."""
        return self.const(np.asarray(values, np.int64), "ints")

    def node(
        self, op_type: str, inputs: list[str], hint: str, n_out: int = 1, **attrs
    ) -> list[str]:
        outs = [self.fresh(hint) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=outs[0], **attrs))
        return outs

    def op(self, op_type: str, inputs: list[str], hint: str, **attrs) -> str:
        """Add a single-output node; returns its output name."""
        return self.node(op_type, inputs, hint, **attrs)[0]

    def layouts(self, value: Value) -> set[str]:
        return set(value.names) if not value.is_const else {NHWC, NCHW, ""}

    def get(self, value: Value, layout: str = NHWC) -> str:
        """The ONNX name of `value` in `layout` (NHWC = TF's own order for every rank)."""
        if value.is_const:
            array = value.const
            if layout == NCHW and array.ndim <= 4:
                array = to_nchw_const(array)
            return self.const(array, "w")
        if len(value.shape) != 4:
            return value.names[""]
        if layout not in value.names:
            source = NCHW if layout == NHWC else NHWC
            perm = TO_NHWC if layout == NHWC else TO_NCHW
            value.names[layout] = self.op("Transpose", [value.names[source]], f"to_{layout}",
                                          perm=list(perm))  # fmt: skip
        return value.names[layout]

    def computed(self, shape: tuple[int, ...], dtype: np.dtype, name: str, layout: str) -> Value:
        """A computed value whose ONNX name `name` holds it in `layout`."""
        key = layout if len(shape) == 4 else ""
        return Value(tuple(shape), np.dtype(dtype), None, {key: name})
