"""TFJS -> ONNX conversion: the converted models give TF.js's answers on a real photo.

Reference: the same TFJS graph model run by node with the pure-JavaScript @tensorflow/tfjs
CPU backend (tests/tfjs_reference.js), installed with npm into the cache once. Input:
messi5.jpg (a footballer mid-kick) resized whole to each model's input size.
"""

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from posetrack.downloads.cache import cache_dir
from posetrack.downloads.fetch import say
from posetrack.downloads.samples import sample_path
from posetrack.errors import UnsupportedModelError
from posetrack.models.tfjs_onnx import convert_tfjs
from posetrack.models.zoo_tfjs import TFJS_MODELS, fetch_tfjs, tfjs_onnx_path

REFERENCE_DIR = Path(__file__).parent / "tfjs_reference"
REFERENCE_SCRIPT = Path(__file__).parent / "tfjs_reference.js"
# PoseNet outputs (logits, pixels) have no common scale: max abs error / max abs reference.
# float32 summation order differs between TF.js and ORT: ~1e-6 relative is what that costs.
POSENET_REL_TOLERANCE = 1e-4
# MoveNet outputs are (y, x) in [0, 1] of the input and scores in [0, 1]: plain abs error.
# An in-graph argmax flipped by rounding would move a point by a grid cell (1/48 or more).
MOVENET_ABS_TOLERANCE = 1e-4
INT32 = "tensor(int32)"
EXPECTED_IO = {
    "posenet": (("image", (1, 385, 385, 3), "tensor(float)"), {
        "MobilenetV1/displacement_fwd_2/BiasAdd": (1, 25, 25, 32),
        "MobilenetV1/heatmap_2/BiasAdd": (1, 25, 25, 17),
        "MobilenetV1/displacement_bwd_2/BiasAdd": (1, 25, 25, 32),
        "MobilenetV1/offset_2/BiasAdd": (1, 25, 25, 34),
    }),
    "movenet-lightning": (("input", (1, 192, 192, 3), INT32), {"Identity": (1, 1, 17, 3)}),
    "movenet-thunder": (("input", (1, 256, 256, 3), INT32), {"Identity": (1, 1, 17, 3)}),
    "movenet-multipose": (("input", (1, 256, 256, 3), INT32), {"Identity": (1, 6, 56)}),
}  # fmt: skip


def model_input(name: str, scale: str = "[-1,1]") -> np.ndarray:
    """messi5.jpg resized to the model's input: posenet float RGB in `scale`, movenet int32."""
    spec = TFJS_MODELS[name]
    image = cv2.cvtColor(cv2.imread(str(sample_path("messi5.jpg"))), cv2.COLOR_BGR2RGB)
    _, height, width, _ = spec.input_shape
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    if spec.input_dtype == "int32":
        return resized.astype(np.int32)[None]
    pixels = resized.astype(np.float32)
    return (pixels / 127.5 - 1.0 if scale == "[-1,1]" else pixels / 255.0)[None]


def run_onnx(name: str, x: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(tfjs_onnx_path(name)), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: x}), strict=True))


@pytest.fixture(scope="module")
def tfjs_modules() -> Path:
    """node_modules holding @tensorflow/tfjs, installed with npm into the cache once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("NOT RUN: node and npm are needed for the TF.js reference (install nodejs)")
    target = cache_dir() / "node"
    wanted = json.loads((REFERENCE_DIR / "package.json").read_text())["dependencies"]
    installed = target / "node_modules" / "@tensorflow" / "tfjs" / "package.json"
    if (
        not installed.is_file()
        or json.loads(installed.read_text())["version"] != wanted["@tensorflow/tfjs"]
    ):
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REFERENCE_DIR / "package.json", target / "package.json")
        say(f"installing @tensorflow/tfjs with npm into {target} (once, about 300 MB) ...")
        result = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=target,
                                capture_output=True, text=True, check=False)  # fmt: skip
        if result.returncode != 0:
            pytest.fail(f"npm install of @tensorflow/tfjs failed: {result.stderr[-2000:]}")
    return target / "node_modules"


def run_tfjs(modules: Path, name: str, x: np.ndarray, tmp: Path) -> dict[str, np.ndarray]:
    """The TFJS model's outputs from node, by signature output name."""
    x.tofile(tmp / "input.bin")
    shape = ",".join(map(str, x.shape))
    cmd = ["node", str(REFERENCE_SCRIPT), str(modules), str(fetch_tfjs(name)),
           str(tmp / "input.bin"), str(x.dtype), shape, str(tmp / "out")]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"TF.js reference run failed: {result.stderr[-2000:]}"
    listing = json.loads((tmp / "out" / "outputs.json").read_text())
    out = {}
    for o in listing["outputs"]:
        dtype = np.float32 if o["dtype"] == "float32" else np.int32
        out[o["name"]] = np.fromfile(tmp / "out" / o["file"], dtype).reshape(o["shape"])
    return out


@pytest.mark.parametrize("name", list(TFJS_MODELS))
def test_converted_model_gives_tfjs_answers(name: str, tfjs_modules: Path, tmp_path: Path):
    x = model_input(name)
    expected = run_tfjs(tfjs_modules, name, x, tmp_path)
    actual = run_onnx(name, x)
    assert list(actual) == list(expected)  # same names, same order
    for output, ref in expected.items():
        error = float(np.abs(actual[output] - ref).max())
        relative = error / float(np.abs(ref).max())
        print(f"{name} {output}: max abs {error:.2e}, relative {relative:.2e}")
        assert actual[output].shape == ref.shape
        if name == "posenet":
            assert relative < POSENET_REL_TOLERANCE, output
        else:
            assert error < MOVENET_ABS_TOLERANCE, output


@pytest.mark.parametrize("name", list(TFJS_MODELS))
def test_converted_model_keeps_tf_names_shapes_and_types(name: str):
    session = ort.InferenceSession(str(tfjs_onnx_path(name)), providers=["CPUExecutionProvider"])
    (input_name, input_shape, input_type), outputs = EXPECTED_IO[name]
    (given,) = session.get_inputs()
    assert (given.name, tuple(given.shape), given.type) == (input_name, input_shape, input_type)
    assert {o.name: tuple(o.shape) for o in session.get_outputs()} == outputs
    assert list(outputs) == [o.name for o in session.get_outputs()]


def _posenet_keypoints(outputs: dict[str, np.ndarray], y_first: bool) -> np.ndarray:
    """Single-pose argmax decode, (x, y) in input px, reading offsets in the given order."""
    heat = outputs["MobilenetV1/heatmap_2/BiasAdd"][0]
    offsets = outputs["MobilenetV1/offset_2/BiasAdd"][0]
    cy, cx = np.unravel_index(heat.reshape(-1, 17).argmax(0), heat.shape[:2])
    first, second = offsets[cy, cx, np.arange(17)], offsets[cy, cx, 17 + np.arange(17)]
    oy, ox = (first, second) if y_first else (second, first)
    return np.stack([cx * 16 + ox, cy * 16 + oy], axis=1)


def test_posenet_offsets_are_y_block_then_x_block_for_input_in_minus_one_to_one():
    """Against MoveNet Thunder's confident keypoints on the same photo (independent model)."""
    thunder = run_onnx("movenet-thunder", model_input("movenet-thunder"))["Identity"][0, 0]
    confident = thunder[:, 2] > 0.45  # MoveNet's own default keypoint threshold is 0.3
    truth = thunder[confident][:, [1, 0]] * 385.0

    def median_error(scale: str, y_first: bool) -> float:
        outputs = run_onnx("posenet", model_input("posenet", scale))
        points = _posenet_keypoints(outputs, y_first)[confident]
        return float(np.median(np.linalg.norm(points - truth, axis=1)))

    y_then_x, x_then_y = median_error("[-1,1]", True), median_error("[-1,1]", False)
    zero_to_one = median_error("[0,1]", True)
    print(f"median px: y-then-x {y_then_x:.1f}, x-then-y {x_then_y:.1f}, [0,1] {zero_to_one:.1f}")
    assert y_then_x < 0.5 * x_then_y
    assert y_then_x < zero_to_one


def _write_model(tmp: Path, nodes: list[dict], weights: list[tuple[dict, bytes]]) -> Path:
    (tmp / "w.bin").write_bytes(b"".join(data for _, data in weights))
    model = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "signature": {"outputs": {"y": {"name": "y:0"}}},
        "weightsManifest": [{"paths": ["w.bin"], "weights": [spec for spec, _ in weights]}],
    }
    path = tmp / "model.json"
    path.write_text(json.dumps(model))
    return path


def _placeholder(shape: tuple[int, ...]) -> dict:
    dims = [{"size": str(d)} for d in shape]
    return {"name": "x", "op": "Placeholder",
            "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": {"dim": dims}}}}  # fmt: skip


def test_quantized_weights_are_dequantized(tmp_path: Path):
    """uint8 affine (q * scale + min) and float16 weights come out as float32 constants."""
    q8 = np.array([0, 1, 128, 255], np.uint8)
    f16 = np.array([0.5, -2.0, 3.25, 1e-3], np.float16)
    nodes = [
        _placeholder((4,)),
        {"name": "q", "op": "Const"},
        {"name": "h", "op": "Const"},
        {"name": "m", "op": "Mul", "input": ["x", "q"]},
        {"name": "y", "op": "AddV2", "input": ["m", "h"]},
    ]
    weights = [
        ({"name": "q", "shape": [4], "dtype": "float32",
          "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}}, q8.tobytes()),
        ({"name": "h", "shape": [4], "dtype": "float32",
          "quantization": {"dtype": "float16", "original_dtype": "float32"}}, f16.tobytes()),
    ]  # fmt: skip
    convert_tfjs(_write_model(tmp_path, nodes, weights), tmp_path / "m.onnx")
    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": x})
    expected = x * (q8.astype(np.float32) * 0.5 - 1.0) + f16.astype(np.float32)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_unsupported_operators_are_named(tmp_path: Path):
    nodes = [
        _placeholder((4,)),
        {"name": "a", "op": "Erf", "input": ["x"]},
        {"name": "y", "op": "Cumsum", "input": ["a"]},
    ]
    with pytest.raises(UnsupportedModelError, match=r"Cumsum \(x1\), Erf \(x1\)"):
        convert_tfjs(_write_model(tmp_path, nodes, []), tmp_path / "m.onnx")


def test_a_file_that_is_not_a_graph_model_is_refused(tmp_path: Path):
    path = tmp_path / "model.json"
    path.write_text('{"modelTopology": {"class_name": "Sequential"}}')
    with pytest.raises(UnsupportedModelError, match="not a TFJS graph model"):
        convert_tfjs(path, tmp_path / "m.onnx")
