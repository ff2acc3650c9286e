"""Convert a TFJS graph model to ONNX: read, check operators, fold or emit each node, write."""

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from posetrack.errors import UnsupportedModelError
from posetrack.models.tfjs_onnx.builder import NHWC, ONNX_TYPES, OnnxBuilder, Value, ref
from posetrack.models.tfjs_onnx.ops import OPS, SUPPORTED_OPERATORS
from posetrack.models.tfjs_onnx.reader import Node, TfjsGraph, read_tfjs

OPSET = 18  # Reduce* and Split take axes / num_outputs as in TF; any ORT since 1.14 runs it
IR_VERSION = 8  # the IR that goes with opset 18


def _check_supported(graph: TfjsGraph) -> None:
    """Raise, naming every unsupported operator, before any conversion work."""
    unknown = Counter(n.op for n in graph.nodes if n.op not in OPS)
    if unknown:
        listed = ", ".join(f"{op} (x{count})" for op, count in sorted(unknown.items()))
        raise UnsupportedModelError(
            f"{graph.path} uses TF operators this converter does not support: {listed}. "
            f"Supported: {', '.join(SUPPORTED_OPERATORS)}"
        )


def _input_values(graph: TfjsGraph, input_shape: tuple[int, ...] | None) -> dict[str, Value]:
    if len(graph.inputs) != 1 and input_shape is not None:
        raise UnsupportedModelError("input_shape can only be given for a single-input model")
    values = {}
    for name, (shape, dtype) in graph.inputs.items():
        shape = tuple(input_shape) if input_shape is not None else shape
        if any(d < 0 for d in shape):
            raise UnsupportedModelError(
                f"{graph.path}: input {name!r} has unknown size {shape}; pass input_shape"
            )
        values[ref(name)] = Value(
            shape, np.dtype(dtype), None, {NHWC if len(shape) == 4 else "": name}
        )
    return values


def _convert_node(b: OnnxBuilder, node: Node, ins: list[Value]) -> list[Value]:
    """The node's outputs: folded to constants when possible, else emitted as ONNX nodes."""
    opdef = OPS[node.op]
    probes = [v.const if v.is_const else np.zeros(v.shape, v.dtype) for v in ins]
    if opdef.fold is not None and (opdef.always_fold or all(v.is_const for v in ins)):
        return [
            Value(np.shape(a), np.asarray(a).dtype, np.asarray(a)) for a in opdef.fold(node, probes)
        ]
    if opdef.emit is None:
        raise UnsupportedModelError(f"{node.name}: {node.op} is supported only on constants")
    if opdef.shape is not None:
        meta = opdef.shape(node, ins)
    else:
        meta = [(np.shape(a), np.asarray(a).dtype) for a in opdef.fold(node, probes)]
    return opdef.emit(b, node, ins, meta)


def _prune(b: OnnxBuilder, outputs: list[str]) -> None:
    """Drop nodes and initializers that no output depends on."""
    producers = {out: node for node in b.nodes for out in node.output}
    needed, stack = set(), list(outputs)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in producers:
            stack.extend(i for i in producers[name].input if i)
    b.nodes[:] = [n for n in b.nodes if any(o in needed for o in n.output)]
    b.initializers[:] = [t for t in b.initializers if t.name in needed]


def build_onnx(graph: TfjsGraph, input_shape: tuple[int, ...] | None = None) -> onnx.ModelProto:
    """The ONNX model equivalent to `graph`: TF's input and output names, NHWC shapes."""
    _check_supported(graph)
    b = OnnxBuilder()
    values: dict[str, Value] = {
        ref(k): Value(v.shape, v.dtype, v) for k, v in graph.constants.items()
    }
    inputs = _input_values(graph, input_shape)
    values.update(inputs)
    for node in graph.nodes:
        try:
            ins = [values[ref(r)] for r in node.inputs]
        except KeyError as e:
            raise UnsupportedModelError(f"{node.name} reads {e}, which is never produced") from e
        for k, value in enumerate(_convert_node(b, node, ins)):
            values[f"{node.name}:{k}"] = value
    outputs = []
    for tensor in graph.outputs:
        value, name = values[ref(tensor)], tensor.split(":")[0]
        b.nodes.append(helper.make_node("Identity", [b.get(value, NHWC)], [name], name=name))
        outputs.append(
            helper.make_tensor_value_info(name, ONNX_TYPES[value.dtype], list(value.shape))
        )
    _prune(b, [o.name for o in outputs])
    graph_inputs = [
        helper.make_tensor_value_info(
            v.names[next(iter(v.names))], ONNX_TYPES[v.dtype], list(v.shape)
        )
        for v in inputs.values()
    ]
    onnx_graph = helper.make_graph(b.nodes, graph.path.stem, graph_inputs, outputs, b.initializers)
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="posetrack.models.tfjs_onnx",
        doc_string=f"converted from {graph.path.name} ({graph.info.get('generatedBy', '')})",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def convert_tfjs(model_json: Path, dst: Path, input_shape: tuple[int, ...] | None = None) -> None:
    """Convert the TFJS graph model `model_json` (shards beside it) to ONNX written to `dst`.

    The input keeps its TF name, NHWC shape and dtype (int32 for MoveNet); outputs keep their
    signature names (without `:0`), shapes and order. `input_shape` fixes an input whose size
    the model leaves open. Raises UnsupportedModelError naming the operators it cannot convert.
    """
    model = build_onnx(read_tfjs(Path(model_json)), input_shape)
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
