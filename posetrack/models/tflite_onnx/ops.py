"""The operator table: TFLite builtin name -> emitter writing the ONNX nodes for it."""

from collections.abc import Callable

from posetrack.models.tflite_onnx import fold, ops_conv, ops_tensor
from posetrack.models.tflite_onnx.builder import OnnxBuilder
from posetrack.models.tflite_onnx.reader import Operator

Emitter = Callable[[OnnxBuilder, Operator], None]

EMITTERS: dict[str, Emitter] = {
    "ADD": ops_tensor.add,
    "CONCATENATION": ops_tensor.concatenation,
    "CONV_2D": ops_conv.conv_2d,
    "DENSIFY": fold.densify_op,
    "DEPTH_TO_SPACE": ops_tensor.depth_to_space,
    "DEPTHWISE_CONV_2D": ops_conv.depthwise_conv_2d,
    "DEQUANTIZE": fold.dequantize,
    "LOGISTIC": ops_tensor.logistic,
    "MAX_POOL_2D": ops_conv.max_pool_2d,
    "PAD": ops_tensor.pad,
    "RESHAPE": ops_tensor.reshape,
    "RESIZE_BILINEAR": ops_tensor.resize_bilinear,
}

SUPPORTED_OPERATORS: tuple[str, ...] = tuple(sorted(EMITTERS))
