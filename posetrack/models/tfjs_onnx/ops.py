"""The operator table: for each supported TF operator, its numpy fold, shape rule and emitter."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from posetrack.models.tfjs_onnx import ops_conv as conv
from posetrack.models.tfjs_onnx import ops_math as math
from posetrack.models.tfjs_onnx import ops_shape as shape
from posetrack.models.tfjs_onnx.builder import OnnxBuilder, Value
from posetrack.models.tfjs_onnx.reader import Node

Meta = list[tuple[tuple[int, ...], np.dtype]]
Fold = Callable[[Node, list[np.ndarray]], list[np.ndarray]]
Emit = Callable[[OnnxBuilder, Node, list[Value], Meta], list[Value]]


@dataclass(frozen=True)
class OpDef:
    """How one TF operator converts.

    fold: numpy evaluation, used on constant inputs and, on zeros, to find output shapes
    (None for the convolution family, which has a `shape` rule instead).
    emit: writes ONNX nodes for computed inputs (None: the op must fold, e.g. Range).
    always_fold: the result is constant even for computed inputs (Shape of a static shape).
    """

    fold: Fold | None
    emit: Emit | None
    shape: Callable[[Node, list[Value]], Meta] | None = None
    always_fold: bool = False


_CONV = OpDef(None, conv.emit_conv, conv.conv_shape)
_ELEMENTWISE = OpDef(math.fold_elementwise, math.emit_elementwise)
_RESHAPE = OpDef(shape.fold_reshape, shape.emit_reshape)
_STATIC = OpDef(shape.fold_static, None, always_fold=True)

OPS: dict[str, OpDef] = {
    "Conv2D": _CONV,
    "_FusedConv2D": _CONV,
    "DepthwiseConv2dNative": _CONV,
    "FusedDepthwiseConv2dNative": _CONV,
    "MaxPool": OpDef(None, conv.emit_pool, conv.pool_shape),
    "AvgPool": OpDef(None, conv.emit_pool, conv.pool_shape),
    "ResizeBilinear": OpDef(None, conv.emit_resize, conv.resize_shape),
    **{op: _ELEMENTWISE for op in math.UNARY_FOLD},
    **{op: _ELEMENTWISE for op in math.BINARY_FOLD},
    **{op: _ELEMENTWISE for op in ("Cast", "AddN", "Select", "SelectV2")},
    **{op: OpDef(math.fold_reduce, math.emit_reduce) for op in math.REDUCE_FOLD},
    "ArgMax": OpDef(math.fold_argmax, math.emit_argmax),
    "TopKV2": OpDef(math.fold_topk, math.emit_topk),
    "Reshape": _RESHAPE,
    "ExpandDims": _RESHAPE,
    "Squeeze": _RESHAPE,
    "StridedSlice": OpDef(shape.fold_strided_slice, shape.emit_strided_slice),
    "Slice": OpDef(shape.fold_slice, shape.emit_slice),
    "Pack": OpDef(shape.fold_pack, shape.emit_pack),
    "Unpack": OpDef(shape.fold_unpack, shape.emit_unpack),
    "ConcatV2": OpDef(shape.fold_concat, shape.emit_concat),
    "GatherV2": OpDef(shape.fold_gather, shape.emit_gather),
    "GatherNd": OpDef(shape.fold_gather_nd, shape.emit_gather_nd),
    "Shape": _STATIC,
    "Size": _STATIC,
    "Rank": _STATIC,
    "Range": OpDef(shape.fold_range, None),
    "Fill": OpDef(shape.fold_fill, shape.emit_fill),
    "Tile": OpDef(shape.fold_tile, shape.emit_tile),
    "Split": OpDef(shape.fold_split, shape.emit_split),
    "Transpose": OpDef(shape.fold_transpose, shape.emit_transpose),
}
SUPPORTED_OPERATORS = tuple(sorted(OPS))
