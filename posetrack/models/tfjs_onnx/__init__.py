"""TFJS graph model (model.json + weight shards) -> ONNX, with numpy and onnx only.

`convert_tfjs(model_json, dst)` writes an ONNX model that takes the same input (name, NHWC
shape, dtype) and gives the same outputs as the TFJS graph model; see docs/tfjs-conversion.md.
"""

from posetrack.models.tfjs_onnx.convert import build_onnx, convert_tfjs
from posetrack.models.tfjs_onnx.ops import SUPPORTED_OPERATORS

__all__ = ["SUPPORTED_OPERATORS", "build_onnx", "convert_tfjs"]
