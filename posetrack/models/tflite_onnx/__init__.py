"""TFLite -> ONNX conversion without TensorFlow (float models: MediaPipe BlazePose & co).

`convert_tflite(src, dst)` writes an ONNX model whose inputs and outputs have exactly the
TFLite names, shapes and layouts; internally it runs NCHW, with weights folded to float32.
"""

from posetrack.models.tflite_onnx.convert import build_onnx, convert_tflite
from posetrack.models.tflite_onnx.ops import SUPPORTED_OPERATORS
from posetrack.models.tflite_onnx.reader import Graph, read_tflite
from posetrack.models.tflite_onnx.sparse import DimMetadata, SparseFormat, densify

__all__ = [
    "SUPPORTED_OPERATORS",
    "DimMetadata",
    "Graph",
    "SparseFormat",
    "build_onnx",
    "convert_tflite",
    "densify",
    "read_tflite",
]
