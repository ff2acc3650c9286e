"""Read a .tflite flatbuffer (via the `tflite` schema classes) into plain Python objects.

Everything the converter needs is read eagerly, so a truncated or corrupt file fails here, with
one clear error, rather than half-way through emitting the ONNX graph.
"""

import inspect
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.DimensionType import DimensionType
from tflite.SparseIndexVector import SparseIndexVector

from posetrack.errors import UnsupportedModelError
from posetrack.models.tflite_onnx.sparse import DimMetadata, SparseFormat

_IDENTIFIER = b"TFL3"  # the flatbuffer file identifier of every TFLite model (bytes 4..8)

_OPCODE_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
_OPTION_CLASSES = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}

# TFLite TensorType -> numpy dtype (the types a float model's tensors and weights use)
_DTYPES: dict[int, np.dtype] = {
    0: np.dtype(np.float32),
    1: np.dtype(np.float16),
    2: np.dtype(np.int32),
    3: np.dtype(np.uint8),
    4: np.dtype(np.int64),
    6: np.dtype(np.bool_),
    7: np.dtype(np.int16),
    9: np.dtype(np.int8),
    10: np.dtype(np.float64),
}

_INDEX_VECTORS = {
    SparseIndexVector.Int32Vector: tflite.Int32Vector,
    SparseIndexVector.Uint16Vector: tflite.Uint16Vector,
    SparseIndexVector.Uint8Vector: tflite.Uint8Vector,
}


@dataclass(frozen=True)
class Quantization:
    """Affine quantization parameters: real = (q - zero_point) * scale, per `axis` if arrays."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int


@dataclass
class Tensor:
    """One TFLite tensor: shape as stored (NHWC for images), constant data if it has any."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    data: np.ndarray | None = None  # constant values (for sparse tensors: the stored values)
    sparsity: SparseFormat | None = None
    quantization: Quantization | None = None


@dataclass
class Operator:
    """One TFLite operator: builtin name, tensor indices (-1: optional input absent), options."""

    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    """The main subgraph of a TFLite model."""

    path: Path
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


def _opcode_name(code: Any) -> str:
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == BuiltinOperator.CUSTOM:
        return f"CUSTOM:{(code.CustomCode() or b'?').decode(errors='replace')}"
    return _OPCODE_NAMES.get(builtin, f"BUILTIN_{builtin}")


def _options(op: Any) -> dict[str, Any]:
    """The operator's builtin options as {getter name: value} (e.g. {"StrideH": 2, ...})."""
    table = op.BuiltinOptions()
    class_name = _OPTION_CLASSES.get(op.BuiltinOptionsType())
    if table is None or class_name is None or class_name == "NONE":
        return {}
    options = getattr(tflite, class_name)()
    options.Init(table.Bytes, table.Pos)
    values = {}
    for name, method in inspect.getmembers(options, inspect.ismethod):
        if name.startswith("_") or name == "Init" or inspect.signature(method).parameters:
            continue
        values[name] = method()
    return values


def _index_vector(kind: int, table: Any) -> np.ndarray | None:
    if table is None or kind not in _INDEX_VECTORS:
        return None
    vector = _INDEX_VECTORS[kind]()
    vector.Init(table.Bytes, table.Pos)
    return np.asarray(vector.ValuesAsNumpy()).astype(np.int64)


def _sparsity(tensor: Any) -> SparseFormat | None:
    params = tensor.Sparsity()
    if params is None:
        return None
    dims = []
    for level in range(params.DimMetadataLength()):
        meta = params.DimMetadata(level)
        dims.append(
            DimMetadata(
                dense=meta.Format() == DimensionType.DENSE,
                dense_size=meta.DenseSize(),
                segments=_index_vector(meta.ArraySegmentsType(), meta.ArraySegments()),
                indices=_index_vector(meta.ArrayIndicesType(), meta.ArrayIndices()),
            )
        )
    return SparseFormat(
        traversal_order=tuple(int(i) for i in np.atleast_1d(params.TraversalOrderAsNumpy())),
        block_map=tuple(int(i) for i in np.atleast_1d(params.BlockMapAsNumpy()))
        if params.BlockMapLength()
        else (),
        dims=tuple(dims),
    )


def _quantization(tensor: Any) -> Quantization | None:
    params = tensor.Quantization()
    if params is None or params.ScaleLength() == 0:
        return None
    zero_point = params.ZeroPointAsNumpy() if params.ZeroPointLength() else np.zeros(1)
    return Quantization(
        np.asarray(params.ScaleAsNumpy(), np.float32),
        np.asarray(zero_point, np.int64),
        params.QuantizedDimension(),
    )


def _buffer_bytes(model: Any, raw: bytes, index: int) -> bytes | None:
    buffer = model.Buffers(index)
    if buffer is None:
        return None
    if buffer.Offset() > 1:  # large models keep buffers after the flatbuffer, by file offset
        start, size = buffer.Offset(), buffer.Size()
        if start + size > len(raw):
            raise ValueError(f"buffer {index} ends past the end of the file")
        return raw[start : start + size]
    if buffer.DataLength() == 0:
        return None
    return buffer.DataAsNumpy().tobytes()


def _tensor(model: Any, raw: bytes, subgraph: Any, index: int) -> Tensor:
    t = subgraph.Tensors(index)
    if t.Type() not in _DTYPES:
        raise UnsupportedModelError(f"tensor {t.Name()!r} has unsupported type {t.Type()}")
    dtype = _DTYPES[t.Type()]
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    sparsity = _sparsity(t)
    data = None
    if (payload := _buffer_bytes(model, raw, t.Buffer())) is not None:
        data = np.frombuffer(payload, dtype=dtype)
        if sparsity is None:
            data = data.reshape(shape)  # raises if the stored size does not match the shape
    return Tensor(index, t.Name().decode(), shape, dtype, data, sparsity, _quantization(t))


def _parse(path: Path, raw: bytes) -> Graph:
    model = tflite.Model.GetRootAsModel(raw, 0)
    if model.SubgraphsLength() < 1:
        raise ValueError("no subgraphs")
    subgraph = model.Subgraphs(0)
    codes = [_opcode_name(model.OperatorCodes(i)) for i in range(model.OperatorCodesLength())]
    tensors = [_tensor(model, raw, subgraph, i) for i in range(subgraph.TensorsLength())]
    operators = []
    for i in range(subgraph.OperatorsLength()):
        op = subgraph.Operators(i)
        operators.append(
            Operator(
                codes[op.OpcodeIndex()],
                tuple(int(j) for j in op.InputsAsNumpy()) if op.InputsLength() else (),
                tuple(int(j) for j in op.OutputsAsNumpy()) if op.OutputsLength() else (),
                _options(op),
            )
        )
    return Graph(
        path,
        tensors,
        operators,
        tuple(int(j) for j in subgraph.InputsAsNumpy()),
        tuple(int(j) for j in subgraph.OutputsAsNumpy()),
    )


def read_tflite(path: Path) -> Graph:
    """The main subgraph of the TFLite model at `path`.

    Raises UnsupportedModelError if the file is not a (complete, readable) TFLite flatbuffer.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnsupportedModelError(f"cannot read model {path}: {exc.strerror}") from exc
    if len(raw) < 8 or raw[4:8] != _IDENTIFIER:
        raise UnsupportedModelError(
            f"{path} is not a TFLite model (no 'TFL3' flatbuffer identifier); "
            "pass a .tflite file, e.g. from `posetrack models fetch`"
        )
    try:
        return _parse(path, raw)
    except UnsupportedModelError:
        raise
    except (IndexError, ValueError, TypeError, struct.error, UnicodeDecodeError) as exc:
        raise UnsupportedModelError(
            f"{path} is not a TFLite model (truncated or corrupt: {exc}); "
            "fetch it again (delete the cached file) or pass another .tflite file"
        ) from exc
