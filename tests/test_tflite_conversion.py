"""TFLite -> ONNX conversion: the converted models give LiteRT's answers on a real photo.

Reference: the original .tflite run by LiteRT with its builtin kernels only (the default
XNNPACK delegate leaves DENSIFY outputs all zero). Input: messi5.jpg (a footballer mid-kick),
cropped around him for the landmark models, letterboxed whole for the detector.
"""

import shutil
import struct
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tflite
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from tflite.BuiltinOperator import BuiltinOperator

from posetrack.downloads.samples import sample_path
from posetrack.errors import UnsupportedModelError
from posetrack.models.tflite_onnx import (
    SUPPORTED_OPERATORS,
    DimMetadata,
    SparseFormat,
    convert_tflite,
    densify,
    read_tflite,
)
from posetrack.models.zoo import source_path

LANDMARK_MODELS = ("blazepose-full", "blazepose-lite", "blazepose-heavy")
NPM_MODELS = ("blazepose-lite", "blazepose-heavy")  # packaged on npm only
# The person in messi5.jpg (548 x 342) lies within this square (x0, y0, side), in pixels.
PERSON_BOX = (65.0, 0.0, 400.0)

# Max abs error allowed per output; float32 reassociation between runtimes is ~1e-5 relative.
ABS_TOLERANCE = {"Identity": 1e-2}  # landmarks, in crop pixels (of 256)
# Max abs error / max abs reference, for outputs whose scale is not pixels.
REL_TOLERANCE = {
    "blazepose": {"Identity_1": 1e-3, "Identity_2": 1e-3, "Identity_3": 1e-3, "Identity_4": 1e-3},
    "pose-detector": {"Identity": 1e-4, "Identity_1": 1e-4},  # boxes (224 px) and logits
}


def _photo_rgb() -> np.ndarray:
    image = cv2.imread(str(sample_path("messi5.jpg")))
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def landmark_input() -> np.ndarray:
    """The person cropped to 256 x 256, RGB in [0, 1], NHWC."""
    x0, y0, side = PERSON_BOX
    scale = 256.0 / side
    warp = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    crop = cv2.warpAffine(_photo_rgb(), warp, (256, 256), flags=cv2.INTER_LINEAR)
    return (crop.astype(np.float32) / 255.0)[None]


def detector_input() -> np.ndarray:
    """The whole photo letterboxed to 224 x 224, RGB in [-1, 1], NHWC."""
    image = _photo_rgb()
    scale = 224.0 / max(image.shape[:2])
    height, width = round(image.shape[0] * scale), round(image.shape[1] * scale)
    top, left = (224 - height) // 2, (224 - width) // 2
    boxed = np.zeros((224, 224, 3), np.uint8)
    boxed[top : top + height, left : left + width] = cv2.resize(image, (width, height))
    return (boxed.astype(np.float32) / 127.5 - 1.0)[None]


def litert_interpreter(path: Path, keep_all: bool = False) -> Interpreter:
    interpreter = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=keep_all,
    )
    interpreter.allocate_tensors()
    return interpreter


def run_litert(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    interpreter = litert_interpreter(path)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}


def _source(name: str) -> Path:
    if name in NPM_MODELS and shutil.which("npm") is None:
        pytest.skip(f"NOT RUN: {name} parity needs npm (the model is packaged on npm only)")
    return source_path(name)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    """name -> (tflite path, converted onnx path), converting each model once per module."""
    paths: dict[str, tuple[Path, Path]] = {}

    def get(name: str) -> tuple[Path, Path]:
        if name not in paths:
            src = _source(name)
            dst = tmp_path_factory.mktemp("onnx") / f"{name}.onnx"
            convert_tflite(src, dst)
            paths[name] = (src, dst)
        return paths[name]

    return get


def _compare(name: str, src: Path, dst: Path, x: np.ndarray) -> None:
    expected = run_litert(src, x)
    session = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
    graph = read_tflite(src)
    tflite_outputs = [graph.tensors[i] for i in graph.outputs]
    # same names, order and shapes as TFLite's subgraph outputs
    assert [o.name for o in session.get_outputs()] == [t.name for t in tflite_outputs]
    assert [tuple(o.shape) for o in session.get_outputs()] == [t.shape for t in tflite_outputs]
    assert session.get_inputs()[0].name == "input_1"
    assert tuple(session.get_inputs()[0].shape) == x.shape
    actual = dict(zip(expected, session.run(list(expected), {"input_1": x}), strict=True))
    relative = REL_TOLERANCE["pose-detector" if name == "pose-detector" else "blazepose"]
    for output, ref in expected.items():
        error = float(np.abs(actual[output] - ref).max())
        if output in relative:
            scale = max(float(np.abs(ref).max()), 1e-6)
            assert error / scale < relative[output], f"{name} {output}: {error} of {scale}"
        else:
            assert error < ABS_TOLERANCE[output], f"{name} {output}: max abs error {error}"


@pytest.mark.parametrize("name", LANDMARK_MODELS)
def test_landmark_model_matches_litert_on_a_real_photo(name: str, converted) -> None:
    src, dst = converted(name)
    _compare(name, src, dst, landmark_input())


def test_detector_matches_litert_on_a_real_photo(converted) -> None:
    src, dst = converted("pose-detector")
    _compare("pose-detector", src, dst, detector_input())


def test_converted_model_runs_nchw_inside_with_one_input_transpose(converted) -> None:
    _, dst = converted("blazepose-full")
    nodes = onnx.load(str(dst)).graph.node
    transposes = [n for n in nodes if n.op_type == "Transpose"]
    assert len(transposes) <= 2  # the input, and the 4-D heatmap output back to NHWC
    assert not any(n.op_type in ("DequantizeLinear", "Cast") for n in nodes)  # weights folded


def test_not_a_model_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    text = tmp_path / "notes.tflite"
    text.write_text("this is not a model\n")
    photo = sample_path("messi5.jpg")
    for path in (text, photo):
        with pytest.raises(UnsupportedModelError, match="is not a TFLite model"):
            convert_tflite(path, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_truncated_model_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    raw = source_path("pose-detector").read_bytes()
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(UnsupportedModelError, match="truncated.tflite is not a TFLite model"):
        convert_tflite(truncated, tmp_path / "out.onnx")


def _retarget_opcode(raw: bytearray, old: int, new: int) -> None:
    """Rewrite, in place, the operator code table entry `old` to builtin `new`."""
    model = tflite.Model.GetRootAsModel(raw, 0)
    patched = 0
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) != old:
            continue
        table = code._tab
        # vtable slots: 4 = deprecated_builtin_code (int8), 10 = builtin_code (int32)
        for slot, fmt in ((4, "<b"), (10, "<i")):
            if offset := table.Offset(slot):
                struct.pack_into(fmt, raw, table.Pos + offset, new)
                patched += 1
    assert patched, f"no operator code {old} to patch"


def test_unsupported_operator_is_named_in_the_error(tmp_path: Path) -> None:
    raw = bytearray(source_path("blazepose-full").read_bytes())
    _retarget_opcode(raw, BuiltinOperator.LOGISTIC, BuiltinOperator.HARD_SWISH)
    model = tmp_path / "hard_swish.tflite"
    model.write_bytes(bytes(raw))
    with pytest.raises(UnsupportedModelError) as caught:
        convert_tflite(model, tmp_path / "out.onnx")
    message = str(caught.value)
    assert "HARD_SWISH (x1)" in message
    assert "LOGISTIC" in message.split("Supported:")[1]  # the list of what is supported
    assert all(op in message for op in SUPPORTED_OPERATORS)


def test_densify_csr_matrix() -> None:
    dense = np.array([[0, 3, 0, 0], [0, 0, 0, 0], [7, 0, 0, 9]], np.float32)
    fmt = SparseFormat(
        traversal_order=(0, 1),
        block_map=(),
        dims=(
            DimMetadata(dense=True, dense_size=3),
            DimMetadata(dense=False, segments=np.array([0, 1, 1, 3]), indices=np.array([1, 0, 3])),
        ),
    )
    np.testing.assert_array_equal(densify(np.array([3, 7, 9], np.float32), dense.shape, fmt), dense)


def test_densify_column_major_traversal() -> None:
    dense = np.array([[0, 3, 0], [5, 0, 0]], np.float16)
    fmt = SparseFormat(  # columns outer (CSC): column 0 holds row 1, column 1 holds row 0
        traversal_order=(1, 0),
        block_map=(),
        dims=(
            DimMetadata(dense=True, dense_size=3),
            DimMetadata(dense=False, segments=np.array([0, 1, 2, 2]), indices=np.array([1, 0])),
        ),
    )
    np.testing.assert_array_equal(densify(np.array([5, 3], np.float16), dense.shape, fmt), dense)


def test_densify_block_sparse_matrix() -> None:
    # 4 x 6 matrix of 2 x 3 blocks; blocks (0, 1) and (1, 0) are stored, the others are zero
    dense = np.zeros((4, 6), np.float32)
    dense[0:2, 3:6] = [[1, 2, 0], [3, 4, 5]]
    dense[2:4, 0:3] = [[6, 0, 7], [0, 8, 9]]
    fmt = SparseFormat(
        traversal_order=(0, 1, 2, 3),  # block row, block column, row in block, column in block
        block_map=(0, 1),
        dims=(
            DimMetadata(dense=True, dense_size=2),
            DimMetadata(dense=False, segments=np.array([0, 1, 2]), indices=np.array([1, 0])),
            DimMetadata(dense=True, dense_size=2),
            DimMetadata(dense=True, dense_size=3),
        ),
    )
    values = np.array([1, 2, 0, 3, 4, 5, 6, 0, 7, 0, 8, 9], np.float32)
    np.testing.assert_array_equal(densify(values, dense.shape, fmt), dense)


def test_densify_matches_litert_on_every_sparse_detector_weight() -> None:
    src = source_path("pose-detector")
    graph = read_tflite(src)
    interpreter = litert_interpreter(src, keep_all=True)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], detector_input())
    interpreter.invoke()
    densify_ops = [op for op in graph.operators if op.name == "DENSIFY"]
    assert len(densify_ops) == 38  # every pointwise conv weight of the detector is sparse
    for op in densify_ops:
        sparse = graph.tensors[op.inputs[0]]
        assert sparse.sparsity is not None and sparse.data is not None
        reference = interpreter.get_tensor(op.outputs[0])
        assert np.count_nonzero(reference) > 0
        np.testing.assert_array_equal(
            densify(sparse.data, sparse.shape, sparse.sparsity), reference, err_msg=sparse.name
        )
