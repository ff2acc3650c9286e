"""Read a TFJS graph model: model.json (a TF GraphDef as JSON) and its weight shards.

Weights are decoded to numpy here: float16 quantisation is widened to float32 and uint8 /
uint16 affine quantisation (`q * scale + min`) is undone, so the converter only ever sees
float32 / int32 / bool constants.
"""

import base64
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posetrack.errors import UnsupportedModelError

DTYPES = {
    "DT_FLOAT": np.dtype(np.float32),
    "DT_INT32": np.dtype(np.int32),
    "DT_BOOL": np.dtype(np.bool_),
    "DT_INT64": np.dtype(np.int64),
}
_MANIFEST_DTYPES = {
    "float32": np.float32,
    "int32": np.int32,
    "bool": np.bool_,
    "float16": np.float16,
    "uint8": np.uint8,
    "uint16": np.uint16,
}


@dataclass
class Node:
    """One GraphDef node: its inputs are tensor references `name` or `name:k`."""

    name: str
    op: str
    inputs: list[str]
    attrs: dict[str, object]


@dataclass
class TfjsGraph:
    path: Path
    nodes: list[Node]  # topologically sorted, Const nodes left out
    constants: dict[str, np.ndarray]  # Const node name -> value
    inputs: dict[str, tuple[tuple[int, ...], np.dtype]]  # Placeholder name -> (shape, dtype)
    outputs: list[str]  # tensor references, in signature order
    info: dict[str, str] = field(default_factory=dict)  # format, generatedBy, convertedBy


def _attr(value: dict) -> object:
    """Decode one AttrValue from its JSON form."""
    if "list" in value:
        items = value["list"]
        if "s" in items:
            return [base64.b64decode(s).decode() for s in items["s"]]
        if "i" in items:
            return [int(i) for i in items["i"]]
        if "f" in items:
            return [float(f) for f in items["f"]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "type" in value:
        return DTYPES.get(value["type"], value["type"])
    if "shape" in value:
        return tuple(int(d.get("size", -1)) for d in value["shape"].get("dim", []))
    return None


def _weights(model_dir: Path, manifest: list[dict]) -> dict[str, np.ndarray]:
    """Decode every weight of every shard group."""
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        try:
            data = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        except OSError as e:
            raise UnsupportedModelError(f"weight shard missing beside model.json: {e}") from e
        offset = 0
        for w in group["weights"]:
            shape = tuple(int(d) for d in w["shape"])
            quant = w.get("quantization") or {}
            stored = np.dtype(_MANIFEST_DTYPES[quant.get("dtype", w["dtype"])])
            count = int(np.prod(shape, dtype=np.int64))
            raw = np.frombuffer(data, stored, count, offset).reshape(shape)
            offset += count * stored.itemsize
            if "scale" in quant:  # affine uint8/uint16 quantisation
                value = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(
                    quant["min"]
                )
            else:
                value = raw
            out[w["name"]] = value.astype(_MANIFEST_DTYPES[w["dtype"]])
        if offset != len(data):
            raise UnsupportedModelError(
                f"weight shards hold {len(data)} bytes, the manifest describes {offset}"
            )
    return out


def _topological(nodes: list[Node], known: set[str]) -> list[Node]:
    """Nodes ordered so every input is produced before it is read."""
    by_name = {n.name: n for n in nodes}
    waiting = {n.name: {r.split(":")[0] for r in n.inputs} - known for n in nodes}
    users: dict[str, list[str]] = {}
    for name, deps in waiting.items():
        for dep in deps:
            if dep not in by_name:
                raise UnsupportedModelError(
                    f"node {name!r} reads {dep!r}, which is not in the graph"
                )
            users.setdefault(dep, []).append(name)
    ready = deque(n.name for n in nodes if not waiting[n.name])
    order = []
    while ready:
        name = ready.popleft()
        order.append(by_name[name])
        for user in users.get(name, []):
            waiting[user].discard(name)
            if not waiting[user]:
                ready.append(user)
    if len(order) != len(nodes):
        raise UnsupportedModelError("the graph has a cycle (control flow is not supported)")
    return order


def read_tfjs(model_json: Path) -> TfjsGraph:
    """Read model.json and the shards beside it."""
    try:
        model = json.loads(Path(model_json).read_text())
        topology = model["modelTopology"]
        raw_nodes = topology["node"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UnsupportedModelError(f"{model_json} is not a TFJS graph model ({e})") from e
    if model.get("format", "graph-model") != "graph-model" or topology.get("library", {}).get(
        "function"
    ):
        raise UnsupportedModelError(
            f"{model_json}: only graph models without functions are supported"
        )
    weights = _weights(Path(model_json).parent, model.get("weightsManifest", []))
    constants, inputs, nodes = {}, {}, []
    for raw in raw_nodes:
        attrs = {k: _attr(v) for k, v in raw.get("attr", {}).items()}
        refs = [r for r in raw.get("input", []) if not r.startswith("^")]  # drop control deps
        if raw["op"] == "Const":
            if raw["name"] not in weights:
                raise UnsupportedModelError(f"constant {raw['name']!r} has no weights")
            constants[raw["name"]] = weights[raw["name"]]
        elif raw["op"] == "Placeholder":
            inputs[raw["name"]] = (attrs.get("shape", ()), attrs["dtype"])
        else:
            nodes.append(Node(raw["name"], raw["op"], refs, attrs))
    signature = model.get("signature", {})
    outputs = [o["name"] for o in signature.get("outputs", {}).values()]
    if not outputs:
        raise UnsupportedModelError(f"{model_json} has no signature naming its outputs")
    for spec in signature.get("inputs", {}).values():  # fill unknown sizes from signature
        node = spec["name"].split(":")[0]
        dims = tuple(int(d.get("size", -1)) for d in spec["tensorShape"]["dim"])
        if node in inputs and -1 in inputs[node][0] and -1 not in dims:
            inputs[node] = (dims, inputs[node][1])
    info = {k: str(model.get(k, "")) for k in ("format", "generatedBy", "convertedBy")}
    order = _topological(nodes, set(constants) | set(inputs))
    return TfjsGraph(Path(model_json), order, constants, inputs, outputs, info)
