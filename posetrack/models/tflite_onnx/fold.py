"""Operators on weights, evaluated at conversion time: DENSIFY and DEQUANTIZE.

The TFLite files store weights as float16, some of them sparse; the ONNX model gets them as
dense float32 initializers, so none of this work is left for run time.
"""

import numpy as np
from onnx import TensorProto

from posetrack.errors import UnsupportedModelError
from posetrack.models.tflite_onnx.builder import OnnxBuilder
from posetrack.models.tflite_onnx.reader import Operator
from posetrack.models.tflite_onnx.sparse import densify


def densify_op(b: OnnxBuilder, op: Operator) -> None:
    """DENSIFY of a sparse constant -> the dense constant."""
    tensor = b.tensor(op.inputs[0])
    if tensor.sparsity is None or tensor.data is None:
        raise UnsupportedModelError(f"DENSIFY input {tensor.name!r} is not a sparse constant")
    b.constants[op.outputs[0]] = densify(tensor.data, tensor.shape, tensor.sparsity)


def _dequantized(b: OnnxBuilder, index: int, value: np.ndarray) -> np.ndarray:
    """Real values of a constant: float16 widened, integers through their affine parameters."""
    if np.issubdtype(value.dtype, np.floating):
        return value.astype(np.float32)
    quant = b.tensor(index).quantization
    if quant is None:
        raise UnsupportedModelError(f"integer tensor {b.tensor(index).name!r} has no scale")
    shape = [1] * value.ndim
    if quant.scale.size > 1:
        shape[quant.axis] = -1
    scale = quant.scale.reshape(shape)
    zero_point = quant.zero_point.reshape(shape)
    return ((value.astype(np.int64) - zero_point) * scale).astype(np.float32)


def dequantize(b: OnnxBuilder, op: Operator) -> None:
    """DEQUANTIZE: folded for constants; a run-time float16 tensor gets a Cast."""
    value = b.constant(op.inputs[0])
    if value is not None:
        b.constants[op.outputs[0]] = _dequantized(b, op.inputs[0], value)
        return
    if b.tensor(op.inputs[0]).dtype != np.float16:
        raise UnsupportedModelError("DEQUANTIZE of run-time integer tensors is not supported")
    layout = "NCHW" if len(b.shape(op.inputs[0])) == 4 else ""
    x = b.get(op.inputs[0], layout)
    b.set(op.outputs[0], b.node("Cast", [x], "cast", to=TensorProto.FLOAT), layout)
