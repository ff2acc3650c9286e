"""Elementwise operators, reductions, ArgMax and TopK: numpy folds and ONNX emitters.

Each TF operator has a numpy `fold` (used on constants, and on zeros to find output shapes)
and an `emit` that writes ONNX nodes. Elementwise ops run in whichever layout their 4-D inputs
already have, so the NCHW activations between convolutions are never transposed for them.
"""

import numpy as np
from onnx import TensorProto

from posetrack.errors import UnsupportedModelError
from posetrack.models.tfjs_onnx.builder import NCHW, NHWC, ONNX_TYPES, OnnxBuilder, Value
from posetrack.models.tfjs_onnx.reader import Node

Meta = list[tuple[tuple[int, ...], np.dtype]]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


UNARY_FOLD = {
    "Sigmoid": _sigmoid,
    "Relu": lambda x: np.maximum(x, 0).astype(x.dtype),
    "Relu6": lambda x: np.clip(x, 0, 6).astype(x.dtype),
    "Sqrt": np.sqrt,
    "Rsqrt": lambda x: (1 / np.sqrt(x)).astype(x.dtype),
    "Exp": np.exp,
    "Log": np.log,
    "Abs": np.abs,
    "Neg": np.negative,
    "Reciprocal": lambda x: (1 / x).astype(x.dtype),
    "Square": np.square,
    "Tanh": np.tanh,
    "Floor": np.floor,
    "LogicalNot": np.logical_not,
    "Identity": lambda x: x,
}
UNARY_ONNX = {"Sigmoid": "Sigmoid", "Relu": "Relu", "Sqrt": "Sqrt", "Exp": "Exp", "Log": "Log",
              "Abs": "Abs", "Neg": "Neg", "Reciprocal": "Reciprocal", "Tanh": "Tanh",
              "Floor": "Floor", "LogicalNot": "Not"}  # fmt: skip
BINARY_FOLD = {
    "Add": np.add,
    "AddV2": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "RealDiv": np.divide,
    "Maximum": np.maximum,
    "Minimum": np.minimum,
    "Pow": np.power,
    "SquaredDifference": lambda a, b: np.square(a - b),
    "FloorDiv": np.floor_divide,
    "Equal": np.equal,
    "NotEqual": np.not_equal,
    "Less": np.less,
    "LessEqual": np.less_equal,
    "Greater": np.greater,
    "GreaterEqual": np.greater_equal,
    "LogicalAnd": np.logical_and,
    "LogicalOr": np.logical_or,
}
BINARY_ONNX = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
               "Maximum": "Max", "Minimum": "Min", "Pow": "Pow", "Equal": "Equal",
               "Less": "Less", "LessEqual": "LessOrEqual", "Greater": "Greater",
               "GreaterEqual": "GreaterOrEqual", "LogicalAnd": "And",
               "LogicalOr": "Or"}  # fmt: skip
REDUCE_ONNX = {"Max": "ReduceMax", "Min": "ReduceMin", "Sum": "ReduceSum", "Mean": "ReduceMean",
               "Prod": "ReduceProd"}  # fmt: skip
REDUCE_FOLD = {"Max": np.max, "Min": np.min, "Sum": np.sum, "Mean": np.mean, "Prod": np.prod}


def _result_dtype(node: Node, arrays: list[np.ndarray]) -> np.dtype:
    if node.op in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"):
        return np.dtype(np.bool_)
    return arrays[0].dtype


def fold_elementwise(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        if node.op == "Cast":
            return [arrays[0].astype(node.attrs["DstT"])]
        if node.op in UNARY_FOLD:
            return [np.asarray(UNARY_FOLD[node.op](arrays[0])).astype(arrays[0].dtype)]
        if node.op == "AddN":
            return [np.sum(arrays, axis=0).astype(arrays[0].dtype)]
        if node.op in ("Select", "SelectV2"):
            cond = arrays[0]
            if node.op == "Select" and cond.ndim == 1 and arrays[1].ndim > 1:  # picks rows
                cond = cond.reshape((-1,) + (1,) * (arrays[1].ndim - 1))
            return [np.where(cond, arrays[1], arrays[2])]
        value = BINARY_FOLD[node.op](arrays[0], arrays[1])
        return [np.asarray(value).astype(_result_dtype(node, arrays))]


def _layout(ins: list[Value], rank: int) -> str:
    """NCHW when the result is 4-D and every computed input already exists as NCHW."""
    dynamic = [v for v in ins if not v.is_const]
    if rank == 4 and dynamic and all(len(v.shape) == 4 and NCHW in v.names for v in dynamic):
        if all(v.const.ndim <= 4 for v in ins if v.is_const):
            return NCHW
    return NHWC


def emit_elementwise(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    shape, dtype = meta[0]
    if node.op == "Identity":
        return [ins[0]]
    layout = _layout(ins, len(shape))
    x = [b.get(v, layout) for v in ins]
    name, op = node.name, node.op
    if op == "Cast":
        y = b.op("Cast", x, name, to=ONNX_TYPES[np.dtype(node.attrs["DstT"])])
    elif op in UNARY_ONNX:
        y = b.op(UNARY_ONNX[op], x, name)
    elif op == "Relu6":
        y = b.op("Clip", [x[0], b.const(np.float32(0)), b.const(np.float32(6))], name)
    elif op == "Rsqrt":
        y = b.op("Reciprocal", [b.op("Sqrt", x, name)], name)
    elif op == "Square":
        y = b.op("Mul", [x[0], x[0]], name)
    elif op == "AddN":
        y = b.op("Sum", x, name)
    elif op in ("Select", "SelectV2"):
        cond = x[0]
        if op == "Select" and len(ins[0].shape) == 1 and len(ins[1].shape) > 1:
            rows = (ins[0].shape[0],) + (1,) * (len(ins[1].shape) - 1)
            cond = b.op("Reshape", [cond, b.ints(rows)], name)
        y = b.op("Where", [cond, x[1], x[2]], name)
    elif op == "SquaredDifference":
        d = b.op("Sub", x, name)
        y = b.op("Mul", [d, d], name)
    elif op == "NotEqual":
        y = b.op("Not", [b.op("Equal", x, name)], name)
    elif op == "FloorDiv" and dtype == np.float32:
        y = b.op("Floor", [b.op("Div", x, name)], name)
    elif op == "FloorDiv":  # exact integer floor division: (a - a mod b) / b, mod with b's sign
        rest = b.op("Sub", [x[0], b.op("Mod", x, name, fmod=0)], name)
        y = b.op("Div", [rest, x[1]], name)
    else:
        y = b.op(BINARY_ONNX[op], x, name)
    return [b.computed(shape, dtype, y, layout)]


def fold_reduce(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    x, axes = arrays
    keep = bool(node.attrs.get("keep_dims", False))
    axis = tuple(int(a) % x.ndim for a in np.atleast_1d(axes))
    fn = REDUCE_FOLD[node.op]
    return [np.asarray(fn(x, axis=axis, keepdims=keep)).astype(x.dtype)]


def emit_reduce(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    if ins[1].const is None:
        raise UnsupportedModelError(f"{node.name}: {node.op} axes must be constants")
    axes = [int(a) % len(ins[0].shape) for a in np.atleast_1d(ins[1].const)]
    x = b.get(ins[0])
    if not axes:
        return [ins[0]]
    keep = int(bool(node.attrs.get("keep_dims", False)))
    y = b.op(REDUCE_ONNX[node.op], [x, b.ints(axes)], node.name, keepdims=keep)
    return [b.computed(meta[0][0], meta[0][1], y, NHWC)]


def fold_argmax(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    x, axis = arrays
    return [np.argmax(x, axis=int(axis)).astype(node.attrs.get("output_type", np.int64))]


def emit_argmax(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    if ins[1].const is None:
        raise UnsupportedModelError(f"{node.name}: ArgMax axis must be a constant")
    axis = int(ins[1].const) % len(ins[0].shape)
    y = b.op("ArgMax", [b.get(ins[0])], node.name, axis=axis, keepdims=0)  # first max wins
    if meta[0][1] != np.int64:
        y = b.op("Cast", [y], node.name, to=ONNX_TYPES[meta[0][1]])
    return [b.computed(meta[0][0], meta[0][1], y, NHWC)]


def fold_topk(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    x, k = arrays[0], int(arrays[1])
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]  # ties: lower index first
    return [np.take_along_axis(x, order, axis=-1), order.astype(np.int32)]


def emit_topk(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    if ins[1].const is None:
        raise UnsupportedModelError(f"{node.name}: TopKV2 k must be a constant")
    k = b.ints([int(ins[1].const)])
    values, indices = b.node("TopK", [b.get(ins[0]), k], node.name, n_out=2, axis=-1,
                             largest=1, sorted=1)  # fmt: skip
    indices = b.op("Cast", [indices], node.name, to=TensorProto.INT32)
    return [b.computed(*meta[0], values, NHWC), b.computed(*meta[1], indices, NHWC)]
