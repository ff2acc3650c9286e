"""Emitters for the element-wise and shape operators, layout-aware.

4-D activations are NCHW here, so every axis argument given in TFLite's NHWC terms (PAD's
paddings, CONCATENATION's axis, broadcast constants) is permuted; RESHAPE, whose meaning
depends on the memory order, reads its input back in NHWC.
"""

import numpy as np

from posetrack.errors import UnsupportedModelError
from posetrack.models.tflite_onnx.builder import (
    NCHW,
    NHWC,
    TO_NCHW,
    OnnxBuilder,
    nhwc_const_to_nchw,
)
from posetrack.models.tflite_onnx.ops_conv import RELU6, fused_activation, relu6_as_relus
from posetrack.models.tflite_onnx.reader import Operator


def _layout(b: OnnxBuilder, index: int) -> str:
    """Layout an element-wise operator works in: NCHW for 4-D tensors."""
    return NCHW if len(b.shape(index)) == 4 else ""


def _operand(b: OnnxBuilder, index: int, out_rank: int) -> str:
    """An input of a broadcasting binary operator, in the layout of its 4-D output."""
    value = b.constant(index)
    if value is None:
        if out_rank == 4 and len(b.shape(index)) != 4:
            raise UnsupportedModelError(
                f"broadcasting run-time tensor {b.tensor(index).name!r} of rank "
                f"{len(b.shape(index))} against a 4-D one is not supported"
            )
        return b.get(index, NCHW if out_rank == 4 else "")
    value = value.astype(np.float32)
    return b.const(nhwc_const_to_nchw(value) if out_rank == 4 else value, "k")


def add(b: OnnxBuilder, op: Operator) -> None:
    """ADD with broadcasting and fused activation."""
    out = op.outputs[0]
    rank = len(b.shape(out))
    y = b.node("Add", [_operand(b, i, rank) for i in op.inputs[:2]], "add")
    if rank == 4 and op.options.get("FusedActivationFunction") == RELU6:
        b.set(out, relu6_as_relus(b, y, b.shape(out)[3]), NCHW)
    else:
        b.set(out, fused_activation(b, op, y), _layout(b, out))


def logistic(b: OnnxBuilder, op: Operator) -> None:
    """LOGISTIC -> Sigmoid, in whatever layout the input is in."""
    layout = _layout(b, op.inputs[0])
    b.set(op.outputs[0], b.node("Sigmoid", [b.get(op.inputs[0], layout)], "sigmoid"), layout)


def pad(b: OnnxBuilder, op: Operator) -> None:
    """PAD with zeros; paddings [rank, 2] (NHWC rows) -> ONNX pads (begins then ends)."""
    paddings = b.require_constant(op.inputs[1], "PAD paddings").astype(np.int64)
    layout = _layout(b, op.inputs[0])
    if layout == NCHW:
        paddings = paddings[list(TO_NCHW)]
    pads = b.const(np.concatenate([paddings[:, 0], paddings[:, 1]]), "pads")
    b.set(op.outputs[0], b.node("Pad", [b.get(op.inputs[0], layout), pads], "pad"), layout)


def reshape(b: OnnxBuilder, op: Operator) -> None:
    """RESHAPE to the output's static shape; a 4-D input is read in NHWC (TFLite's order)."""
    shape = b.const(np.asarray(b.shape(op.outputs[0]), np.int64), "shape")
    x = b.get(op.inputs[0], NHWC if len(b.shape(op.inputs[0])) == 4 else "")
    b.set(op.outputs[0], b.node("Reshape", [x, shape], "reshape"), NHWC)


def concatenation(b: OnnxBuilder, op: Operator) -> None:
    """CONCATENATION; the NHWC axis is mapped to its NCHW position for 4-D tensors."""
    rank = len(b.shape(op.outputs[0]))
    axis = op.options.get("Axis", 0) % rank
    layout = NCHW if rank == 4 else ""
    if layout == NCHW:
        axis = TO_NCHW.index(axis)
    inputs = [b.get(i, layout) for i in op.inputs]
    y = b.node("Concat", inputs, "concat", axis=axis)
    b.set(op.outputs[0], fused_activation(b, op, y), layout)


def resize_bilinear(b: OnnxBuilder, op: Operator) -> None:
    """RESIZE_BILINEAR -> Resize(linear) with TFLite's coordinate convention."""
    if op.options.get("AlignCorners"):
        mode = "align_corners"  # in = out * (in_size - 1) / (out_size - 1)
    elif op.options.get("HalfPixelCenters"):
        mode = "half_pixel"  # in = (out + 0.5) / scale - 0.5, clamped at the border
    else:
        mode = "asymmetric"  # in = out / scale (TF1's default)
    sizes = b.const(np.asarray(b.shape(op.outputs[0], NCHW), np.int64), "sizes")
    y = b.node(
        "Resize",
        [b.get(op.inputs[0], NCHW), "", "", sizes],
        "resize",
        mode="linear",
        coordinate_transformation_mode=mode,
    )
    b.set(op.outputs[0], y, NCHW)


def depth_to_space(b: OnnxBuilder, op: Operator) -> None:
    """DEPTH_TO_SPACE: TFLite orders depth as (block row, block column, channel) = ONNX DCR."""
    y = b.node(
        "DepthToSpace",
        [b.get(op.inputs[0], NCHW)],
        "d2s",
        blocksize=op.options["BlockSize"],
        mode="DCR",
    )
    b.set(op.outputs[0], y, NCHW)
