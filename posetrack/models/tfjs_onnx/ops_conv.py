"""Convolutions, pooling and resizing: NCHW in ONNX, static TF padding made explicit."""

import numpy as np

from posetrack.errors import UnsupportedModelError
from posetrack.models.tfjs_onnx.builder import NCHW, OnnxBuilder, Value
from posetrack.models.tfjs_onnx.reader import Node

Meta = list[tuple[tuple[int, ...], np.dtype]]


def _hw(attr: list[int] | None, node: Node, what: str) -> tuple[int, int]:
    values = attr or [1, 1, 1, 1]
    if node.attrs.get("data_format", "NHWC") != "NHWC":
        raise UnsupportedModelError(f"{node.name}: {node.op} data_format must be NHWC")
    if len(values) != 4 or values[0] != 1 or values[3] != 1:
        raise UnsupportedModelError(f"{node.name}: {what} {values} over batch/channels")
    return values[1], values[2]


def _out_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return -(-size // stride)
    return (size - effective) // stride + 1


def _pads(node: Node, in_hw: tuple[int, int], kernel: tuple[int, int],
          strides: tuple[int, int], dilations: tuple[int, int]) -> list[int]:  # fmt: skip
    """ONNX pads [top, left, bottom, right] equal to TF's SAME / VALID / EXPLICIT padding."""
    padding = node.attrs.get("padding", "VALID")
    if padding == "EXPLICIT":
        p = node.attrs["explicit_paddings"]
        return [p[2], p[4], p[3], p[5]]
    if padding == "VALID":
        return [0, 0, 0, 0]
    before, after = [], []
    for size, k, s, d in zip(in_hw, kernel, strides, dilations, strict=True):
        out = _out_size(size, k, s, d, "SAME")
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        before.append(total // 2)  # TF puts the odd pixel after (bottom / right)
        after.append(total - total // 2)
    return before + after


def conv_shape(node: Node, ins: list[Value]) -> Meta:
    n, h, w, c = ins[0].shape
    kh, kw, cin, cout = ins[1].shape
    if node.op in ("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
        cout = cin * cout
    sh, sw = _hw(node.attrs.get("strides"), node, "strides")
    dh, dw = _hw(node.attrs.get("dilations"), node, "dilations")
    pads = _pads(node, (h, w), (kh, kw), (sh, sw), (dh, dw))
    oh = (h + pads[0] + pads[2] - (kh - 1) * dh - 1) // sh + 1
    ow = (w + pads[1] + pads[3] - (kw - 1) * dw - 1) // sw + 1
    return [((n, oh, ow, cout), np.dtype(np.float32))]


def _activation(b: OnnxBuilder, x: str, fused: list[str], node: Node) -> str:
    for op in fused:
        if op == "Relu":
            x = b.op("Relu", [x], node.name)
        elif op == "Relu6":
            x = b.op("Clip", [x, b.const(np.float32(0)), b.const(np.float32(6))], node.name)
        elif op == "Elu":
            x = b.op("Elu", [x], node.name)
        elif op == "LeakyRelu":
            x = b.op(
                "LeakyRelu", [x], node.name, alpha=float(node.attrs.get("leakyrelu_alpha", 0.2))
            )
        else:
            raise UnsupportedModelError(f"{node.name}: fused operation {op} is not supported")
    return x


def emit_conv(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    """Conv2D / DepthwiseConv2dNative and their fused forms (BiasAdd + activation)."""
    filt = ins[1].const
    if filt is None:
        raise UnsupportedModelError(f"{node.name}: the filter of {node.op} must be a constant")
    kh, kw, cin, mult = filt.shape
    depthwise = "Depthwise" in node.op
    if depthwise:  # TF channel order c * mult + m; ONNX group conv, one group per input channel
        weight = filt.reshape(kh, kw, cin * mult).transpose(2, 0, 1)[:, None]
    else:
        weight = filt.transpose(3, 2, 0, 1)
    fused = list(node.attrs.get("fused_ops", []))
    inputs = [b.get(ins[0], NCHW), b.const(np.ascontiguousarray(weight, np.float32), "w")]
    if fused[:1] == ["BiasAdd"]:
        inputs.append(b.const(ins[2].const.astype(np.float32), "b"))
        fused = fused[1:]
    elif fused:
        raise UnsupportedModelError(f"{node.name}: fused {fused} without BiasAdd first")
    strides = _hw(node.attrs.get("strides"), node, "strides")
    dilations = _hw(node.attrs.get("dilations"), node, "dilations")
    pads = _pads(node, ins[0].shape[1:3], (kh, kw), strides, dilations)
    y = b.op("Conv", inputs, node.name, kernel_shape=[kh, kw], strides=list(strides),
             dilations=list(dilations), pads=pads, group=cin if depthwise else 1)  # fmt: skip
    y = _activation(b, y, fused, node)
    return [b.computed(meta[0][0], meta[0][1], y, NCHW)]


def pool_shape(node: Node, ins: list[Value]) -> Meta:
    n, h, w, c = ins[0].shape
    kh, kw = _hw(node.attrs.get("ksize"), node, "ksize")
    sh, sw = _hw(node.attrs.get("strides"), node, "strides")
    pads = _pads(node, (h, w), (kh, kw), (sh, sw), (1, 1))
    oh = (h + pads[0] + pads[2] - kh) // sh + 1
    ow = (w + pads[1] + pads[3] - kw) // sw + 1
    return [((n, oh, ow, c), ins[0].dtype)]


def emit_pool(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    """MaxPool / AvgPool (TF's SAME average excludes the padding, as count_include_pad=0)."""
    kernel = _hw(node.attrs.get("ksize"), node, "ksize")
    strides = _hw(node.attrs.get("strides"), node, "strides")
    pads = _pads(node, ins[0].shape[1:3], kernel, strides, (1, 1))
    op_type = "MaxPool" if node.op == "MaxPool" else "AveragePool"
    y = b.op(op_type, [b.get(ins[0], NCHW)], node.name, kernel_shape=list(kernel),
             strides=list(strides), pads=pads)  # fmt: skip
    return [b.computed(meta[0][0], meta[0][1], y, NCHW)]


def resize_shape(node: Node, ins: list[Value]) -> Meta:
    if ins[1].const is None:
        raise UnsupportedModelError(f"{node.name}: {node.op} size must be a constant")
    n, _, _, c = ins[0].shape
    h, w = (int(v) for v in ins[1].const)
    return [((n, h, w, c), np.dtype(np.float32))]


def emit_resize(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    """ResizeBilinear with TF's corner conventions (output always float32)."""
    if node.attrs.get("align_corners"):
        mode = "align_corners"
    elif node.attrs.get("half_pixel_centers"):
        mode = "half_pixel"
    else:
        mode = "asymmetric"
    n, h, w, c = meta[0][0]
    x = b.get(ins[0], NCHW)
    if ins[0].dtype != np.float32:
        x = b.op("Cast", [x], node.name, to=1)
    y = b.op("Resize", [x, "", "", b.ints([n, c, h, w])], node.name, mode="linear",
             coordinate_transformation_mode=mode)  # fmt: skip
    return [b.computed(meta[0][0], np.dtype(np.float32), y, NCHW)]
