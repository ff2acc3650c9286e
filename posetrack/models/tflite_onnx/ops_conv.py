"""Emitters for the windowed operators (CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D), all in NCHW.

Weights are re-laid out at conversion time (OHWI -> OIHW), and TFLite's SAME padding becomes
explicit pads computed from the static input size.
"""

import numpy as np

from posetrack.errors import UnsupportedModelError
from posetrack.models.tflite_onnx.builder import NCHW, OnnxBuilder
from posetrack.models.tflite_onnx.reader import Operator

_SAME, _VALID = 0, 1  # tflite.Padding
RELU6 = 3  # tflite.ActivationFunctionType.RELU6
# tflite.ActivationFunctionType -> (ONNX op, Clip bounds)
_ACTIVATIONS: dict[int, tuple[str, tuple[float, float] | None]] = {
    1: ("Relu", None),
    2: ("Clip", (-1.0, 1.0)),
    RELU6: ("Clip", (0.0, 6.0)),
    4: ("Tanh", None),
}


def fused_activation(b: OnnxBuilder, op: Operator, name: str) -> str:
    """Apply the operator's fused activation (if any) to ONNX value `name`."""
    code = op.options.get("FusedActivationFunction", 0)
    if code == 0:
        return name
    if code not in _ACTIVATIONS:
        raise UnsupportedModelError(f"{op.name} has unsupported fused activation {code}")
    op_type, bounds = _ACTIVATIONS[code]
    if bounds is None:
        return b.node(op_type, [name], op_type.lower())
    low, high = (b.const(np.asarray(v, np.float32), "clip") for v in bounds)
    return b.node(op_type, [name, low, high], op_type.lower())


def relu6_as_relus(b: OnnxBuilder, name: str, channels: int) -> str:
    """min(max(x, 0), 6) of an NCHW value, as Relu and per-channel 1x1 convolutions.

    6 - relu(6 - relu(x)) equals ReLU6 (within 2.4e-7: 6 - u is exact for u >= 3). Written so
    because ORT's NCHWc layout pass fuses Relu into a preceding Conv+Add but not Clip: a Clip
    after a residual ADD leaves NCHWc and comes back (two reorders). Measured on this 2-core
    machine (ORT 1.31, 1 thread, CPU time): -7% full, -10% lite, -4% detector, -2.5% heavy.
    """
    weight = b.shared_const(f"neg_{channels}", -np.ones((channels, 1, 1, 1), np.float32))
    bias = b.shared_const(f"six_{channels}", np.full(channels, 6.0, np.float32))
    x = b.node("Relu", [name], "relu")
    x = b.node("Conv", [x, weight, bias], "six_minus", group=channels, kernel_shape=[1, 1])
    x = b.node("Relu", [x], "relu")
    return b.node("Conv", [x, weight, bias], "six_minus", group=channels, kernel_shape=[1, 1])


def _pads(
    op: Operator, size: tuple[int, int], kernel: tuple[int, int], dilation: tuple[int, int]
) -> list[int]:
    """ONNX pads [top, left, bottom, right] for TFLite's SAME / VALID padding."""
    padding = op.options["Padding"]
    if padding == _VALID:
        return [0, 0, 0, 0]
    if padding != _SAME:
        raise UnsupportedModelError(f"{op.name} has unknown padding {padding}")
    stride = (op.options["StrideH"], op.options["StrideW"])
    begin, end = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def _conv(b: OnnxBuilder, op: Operator, weight: np.ndarray, group: int) -> None:
    """Conv in NCHW with OIHW `weight`, optional bias, padding and fused activation."""
    x = b.get(op.inputs[0], NCHW)
    _, _, height, width = b.shape(op.inputs[0], NCHW)
    dilation = (op.options.get("DilationHFactor", 1), op.options.get("DilationWFactor", 1))
    inputs = [x, b.const(weight.astype(np.float32), "w")]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        inputs.append(b.const(b.require_constant(op.inputs[2], "bias").astype(np.float32), "b"))
    y = b.node(
        "Conv",
        inputs,
        "conv",
        group=group,
        kernel_shape=list(weight.shape[2:]),
        strides=[op.options["StrideH"], op.options["StrideW"]],
        dilations=list(dilation),
        pads=_pads(op, (height, width), tuple(weight.shape[2:]), dilation),
    )
    b.set(op.outputs[0], fused_activation(b, op, y), NCHW)


def conv_2d(b: OnnxBuilder, op: Operator) -> None:
    """CONV_2D: weights [O, H, W, I] -> [O, I, H, W]."""
    weight = b.require_constant(op.inputs[1], "CONV_2D weight")
    in_channels = b.shape(op.inputs[0])[3]
    _conv(b, op, weight.transpose(0, 3, 1, 2), group=in_channels // weight.shape[3])


def depthwise_conv_2d(b: OnnxBuilder, op: Operator) -> None:
    """DEPTHWISE_CONV_2D: weights [1, H, W, C*M] -> [C*M, 1, H, W], one group per channel."""
    weight = b.require_constant(op.inputs[1], "DEPTHWISE_CONV_2D weight")
    in_channels = b.shape(op.inputs[0])[3]
    _conv(b, op, weight.transpose(3, 0, 1, 2), group=in_channels)


def max_pool_2d(b: OnnxBuilder, op: Operator) -> None:
    """MAX_POOL_2D; SAME padding ignores the padded cells, as ONNX MaxPool's pads do."""
    x = b.get(op.inputs[0], NCHW)
    _, _, height, width = b.shape(op.inputs[0], NCHW)
    kernel = (op.options["FilterHeight"], op.options["FilterWidth"])
    y = b.node(
        "MaxPool",
        [x],
        "maxpool",
        kernel_shape=list(kernel),
        strides=[op.options["StrideH"], op.options["StrideW"]],
        pads=_pads(op, (height, width), kernel, (1, 1)),
    )
    b.set(op.outputs[0], fused_activation(b, op, y), NCHW)
