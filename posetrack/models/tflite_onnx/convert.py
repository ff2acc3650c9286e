"""Convert a TFLite model to ONNX: read, check the operators, walk the graph, write."""

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from posetrack.errors import UnsupportedModelError
from posetrack.models.tflite_onnx.builder import NHWC, OnnxBuilder
from posetrack.models.tflite_onnx.ops import EMITTERS, SUPPORTED_OPERATORS
from posetrack.models.tflite_onnx.reader import Graph, read_tflite

OPSET = 17  # Resize(sizes), Pad(pads input), DepthToSpace(DCR): any ORT since 1.13 runs it
IR_VERSION = 8  # the IR that goes with opset 17; newer readers accept it, older ones too


def _check_supported(graph: Graph) -> None:
    """Raise, naming every unsupported operator, before any conversion work."""
    unknown = Counter(op.name for op in graph.operators if op.name not in EMITTERS)
    if unknown:
        listed = ", ".join(f"{name} (x{count})" for name, count in sorted(unknown.items()))
        raise UnsupportedModelError(
            f"{graph.path} uses TFLite operators this converter does not support: {listed}. "
            f"Supported: {', '.join(SUPPORTED_OPERATORS)}"
        )
    for index in graph.inputs:
        tensor = graph.tensors[index]
        if tensor.dtype != np.float32:
            raise UnsupportedModelError(
                f"{graph.path} input {tensor.name!r} is {tensor.dtype}; only float32 models "
                "(float16 or sparse weights allowed) are supported, not quantized ones"
            )


def _name_outputs(b: OnnxBuilder, sources: list[str], names: list[str]) -> None:
    """Make the graph's outputs carry TFLite's names, renaming producers where possible."""
    producers = {out: node for node in b.nodes for out in node.output}
    for source, name in zip(sources, names, strict=True):
        node = producers.get(source)
        if node is None or sources.count(source) > 1:
            b.nodes.append(helper.make_node("Identity", [source], [name], name=name))
            continue
        node.output[list(node.output).index(source)] = name
        for consumer in b.nodes:
            for i, value in enumerate(consumer.input):
                if value == source:
                    consumer.input[i] = name


def _value_info(b: OnnxBuilder, index: int) -> onnx.ValueInfoProto:
    tensor = b.tensor(index)
    return helper.make_tensor_value_info(tensor.name, TensorProto.FLOAT, list(tensor.shape))


def build_onnx(graph: Graph) -> onnx.ModelProto:
    """The ONNX model equivalent to `graph` (inputs/outputs named and shaped as in TFLite)."""
    _check_supported(graph)
    b = OnnxBuilder(graph, constants={})
    for index in graph.inputs:
        b.set(index, graph.tensors[index].name, NHWC)
    for op in graph.operators:
        EMITTERS[op.name](b, op)
    sources = [b.get(index, NHWC) for index in graph.outputs]
    _name_outputs(b, sources, [graph.tensors[i].name for i in graph.outputs])
    onnx_graph = helper.make_graph(
        b.nodes,
        graph.path.stem,
        [_value_info(b, i) for i in graph.inputs],
        [_value_info(b, i) for i in graph.outputs],
        b.initializers,
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="posetrack.models.tflite_onnx",
        doc_string=f"converted from {graph.path.name}",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def convert_tflite(src: Path, dst: Path) -> None:
    """Convert the TFLite model `src` to an ONNX model written to `dst`.

    Inputs and outputs keep their TFLite names, shapes (NHWC images) and order. Raises
    UnsupportedModelError if `src` is not a TFLite model or uses unsupported operators.
    """
    model = build_onnx(read_tflite(Path(src)))
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
