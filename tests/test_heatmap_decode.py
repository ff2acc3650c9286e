"""The GPU heatmap decode gives the CPU path's answers: argmax indices, PoseNet keypoints,
BlazePose heatmap refinement; and it reads back K x 4 floats, never the heatmaps.

Real heatmaps come from the BlazePose full model (ONNX Runtime) on messi5.jpg; the adversarial
ones (ties, plateaus, negatives, huge negatives, edge and corner peaks, NaN) are synthetic, each
isolating one rule of numpy's argmax. The compute shaders run on whatever GL the `showbase`
fixture got (Mesa llvmpipe on a machine with no GPU).
"""

import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from direct.showbase.ShowBase import ShowBase

from posetrack.components.roi import RegionOfInterest
from posetrack.downloads.samples import sample_path
from posetrack.errors import PosetrackError
from posetrack.models import blazepose_landmarks as bl
from posetrack.models.blazepose_detector import DetectorDecoder, preprocess_detector
from posetrack.models.runtime import OrtModel
from posetrack.models.zoo import onnx_path
from posetrack.stages.decode_cpu import (
    GRAPH_HEATMAP_KERNEL,
    HEATMAP_KERNEL,
    argmax_heatmaps,
    posenet_keypoints,
    refine_from_heatmap,
)
from posetrack.stages.decode_gpu import GpuHeatmapDecoder
from posetrack.stages.gpu_context import GpuContext

BLAZEPOSE_SHAPE = (64, 64, 39)  # Identity_3 of the landmark models
POSENET_SHAPE = (25, 25, 17)  # PoseNet at 385 x 385, output stride 16
POSENET_STRIDE = 16
REFINE_TOLERANCE_PX = 1e-3  # crop pixels, the bound


@pytest.fixture(scope="module")
def real_outputs() -> list[dict[str, np.ndarray]]:
    """Landmark-model outputs on two crops of messi5.jpg: the detector's ROI, and the same ROI
    turned 30 degrees (a crop the model sees when the player leans)."""
    image = cv2.imread(str(sample_path("messi5.jpg")))
    detector = OrtModel(onnx_path("pose-detector"), device="cpu")
    landmarks = OrtModel(onnx_path("blazepose-full"), device="cpu")
    try:
        tensor, crop_to_source = preprocess_detector(image)
        rois = DetectorDecoder().decode(
            detector.run({detector.input_names[0]: tensor}), crop_to_source
        )
        assert rois, "the detector found nobody on messi5.jpg"
        roi = rois[0]
        turned = RegionOfInterest(
            roi.x_center, roi.y_center, roi.width, roi.height, roi.rotation + math.radians(30)
        )
        outputs = []
        for crop_roi in (roi, turned):
            crop, _ = bl.preprocess_landmarks(image, crop_roi)
            outputs.append(landmarks.run({landmarks.input_names[0]: crop}))
        return outputs
    finally:
        detector.close()
        landmarks.close()


@pytest.fixture(scope="module")
def blazepose_decoder(showbase: ShowBase) -> Iterator[GpuHeatmapDecoder]:
    decoder = GpuHeatmapDecoder(GpuContext.from_showbase(showbase), *BLAZEPOSE_SHAPE)
    yield decoder
    decoder.close()


def _decoder(showbase: ShowBase, shape: tuple[int, int, int]) -> GpuHeatmapDecoder:
    return GpuHeatmapDecoder(GpuContext.from_showbase(showbase), *shape)


def _assert_same_argmax(decoder: GpuHeatmapDecoder, heatmaps: np.ndarray) -> None:
    index, value = decoder.argmax(heatmaps)
    want_index, want_value = argmax_heatmaps(heatmaps)
    np.testing.assert_array_equal(index, want_index)
    np.testing.assert_array_equal(value, want_value)  # bit-exact, NaN where numpy has NaN
    # and the CPU reference is numpy's own argmax over row-major H*W
    flat = heatmaps.reshape(-1, heatmaps.shape[-1])
    np.testing.assert_array_equal(want_index, np.argmax(flat, axis=0))


# ------------------------------------------------------------------ real heatmaps


def test_argmax_on_real_blazepose_heatmaps_equals_numpy(
    real_outputs: list[dict[str, np.ndarray]], blazepose_decoder: GpuHeatmapDecoder
) -> None:
    for outputs in real_outputs:
        heatmaps = outputs["Identity_3"]
        assert heatmaps.shape == (1, *BLAZEPOSE_SHAPE)
        _assert_same_argmax(blazepose_decoder, heatmaps[0])


@pytest.mark.parametrize("kernel", [HEATMAP_KERNEL, GRAPH_HEATMAP_KERNEL])
def test_refinement_on_real_heatmaps_matches_cpu_within_a_thousandth_pixel(
    real_outputs: list[dict[str, np.ndarray]], blazepose_decoder: GpuHeatmapDecoder, kernel: int
) -> None:
    moved = 0
    for outputs in real_outputs:
        landmarks = outputs["Identity"].reshape(bl.NUM_LANDMARKS, -1)[:, :2].astype(np.float64)
        heatmaps = outputs["Identity_3"]
        want = refine_from_heatmap(landmarks, heatmaps, kernel_size=kernel)
        got = blazepose_decoder.blazepose_refine(landmarks, heatmaps, kernel_size=kernel)
        np.testing.assert_allclose(got, want, rtol=0, atol=REFINE_TOLERANCE_PX)
        moved += int(np.any(want != landmarks, axis=1).sum())
    assert moved >= 20, f"only {moved} landmarks were refined: the comparison proves little"


# ------------------------------------------------------------------ adversarial argmax


def _adversarial(shape: tuple[int, int, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Heatmaps that each isolate one argmax rule, [H, W, K] float32."""
    height, width, channels = shape
    cells = height * width
    cases: dict[str, np.ndarray] = {}
    cases["all equal"] = np.full(shape, 0.25, np.float32)
    cases["all zero, signed zeros"] = np.where(
        rng.random(shape) < 0.5, np.float32(-0.0), np.float32(0.0)
    ).astype(np.float32)
    ties = rng.standard_normal(shape).astype(np.float32)
    for k in range(channels):  # the max repeated at 2..5 random cells of each channel
        where = rng.choice(cells, size=min(cells, 2 + k % 4), replace=False)
        ties.reshape(cells, channels)[where, k] = 9.0
    cases["ties at random cells"] = ties
    cases["few levels, many ties"] = rng.integers(0, 3, shape).astype(np.float32)
    cases["all negative"] = -np.abs(rng.standard_normal(shape)).astype(np.float32) - 1.0
    huge = np.full(shape, -np.finfo(np.float32).max, np.float32)
    huge.reshape(cells, channels)[rng.integers(0, cells, channels), np.arange(channels)] = -3e38
    cases["huge negatives"] = huge
    inf = np.full(shape, -np.inf, np.float32)
    inf.reshape(cells, channels)[rng.integers(0, cells, channels), np.arange(channels)] = -1e30
    cases["-inf with one finite cell"] = inf
    cases["all -inf"] = np.full(shape, -np.inf, np.float32)
    edges = rng.uniform(-5, 0, shape).astype(np.float32)
    border = [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]
    border += [
        (0, width // 2),
        (height - 1, width // 3),
        (height // 2, 0),
        (height // 3, width - 1),
    ]
    for k in range(channels):
        row, col = border[k % len(border)]
        edges[row, col, k] = 1.0
    cases["peaks on edges and corners"] = edges
    last = rng.uniform(-1, 0, shape).astype(np.float32)
    last[-1, -1, :] = 0.5  # the very last cell, reached by the last invocation's last step
    cases["peak in the last cell"] = last
    nan = rng.standard_normal(shape).astype(np.float32)
    nan.reshape(cells, channels)[rng.integers(0, cells, (2, channels)), np.arange(channels)] = (
        np.nan
    )
    cases["NaN (numpy: the first NaN wins)"] = nan
    tiny = np.zeros(shape, np.float32)  # subnormals: a GPU that flushes them to zero ties them
    tiny.reshape(cells, channels)[rng.integers(0, cells, channels), np.arange(channels)] = 1e-45
    tiny.reshape(cells, channels)[rng.integers(0, cells, channels), np.arange(channels)] = 1e-40
    cases["subnormal peaks"] = tiny
    return cases


@pytest.mark.parametrize(
    "shape", [BLAZEPOSE_SHAPE, POSENET_SHAPE, (1, 1, 5), (1, 7, 3), (9, 1, 2), (13, 31, 4)]
)
def test_argmax_on_adversarial_heatmaps_equals_numpy(
    showbase: ShowBase, shape: tuple[int, int, int]
) -> None:
    decoder = _decoder(showbase, shape)
    try:
        for name, heatmaps in _adversarial(shape, np.random.default_rng(sum(shape))).items():
            try:
                _assert_same_argmax(decoder, heatmaps)
            except AssertionError as e:
                raise AssertionError(f"{name}, {shape}: {e}") from None
    finally:
        decoder.close()


# ------------------------------------------------------------------ PoseNet


def test_posenet_keypoints_is_argmax_cell_times_stride_plus_offset() -> None:
    """The CPU decode on a hand-made case: y offsets first, then x offsets, as TFJS."""
    heatmaps = np.full((5, 6, 2), -3.0, np.float32)
    heatmaps[3, 4, 0] = 2.0
    heatmaps[0, 5, 1] = 0.0
    offsets = np.zeros((5, 6, 4), np.float32)
    offsets[3, 4, 0], offsets[3, 4, 2] = 1.5, -2.25  # keypoint 0: y, x
    offsets[0, 5, 1], offsets[0, 5, 3] = -0.5, 7.0  # keypoint 1: y, x
    got = posenet_keypoints(heatmaps[None], offsets[None], 8)
    expected = [[4 * 8 - 2.25, 3 * 8 + 1.5, 1 / (1 + math.exp(-2))], [5 * 8 + 7, -0.5, 0.5]]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_posenet_decode_on_gpu_equals_cpu(showbase: ShowBase) -> None:
    rng = np.random.default_rng(17)
    height, width, channels = POSENET_SHAPE
    decoder = _decoder(showbase, POSENET_SHAPE)
    try:
        for scale in (1.0, 20.0):  # logits of a trained model's spread, and saturated scores
            heatmaps = (scale * rng.standard_normal(POSENET_SHAPE)).astype(np.float32)
            offsets = (10 * rng.standard_normal((height, width, 2 * channels))).astype(np.float32)
            got = decoder.posenet(heatmaps, offsets, POSENET_STRIDE)
            want = posenet_keypoints(heatmaps, offsets, POSENET_STRIDE)
            np.testing.assert_array_equal(got, want)
        assert decoder.bytes_read_back == channels * 4 * 4
        # heatmaps + offsets + the stride uniform; the heatmaps never come back
        assert decoder.bytes_uploaded == heatmaps.nbytes + offsets.nbytes + 4
    finally:
        decoder.close()


# ------------------------------------------------------------------ refinement edge cases


@pytest.mark.parametrize("kernel", [3, 7, 9])
@pytest.mark.parametrize("min_confidence", [0.5, 0.9])
def test_refinement_near_borders_and_outside_matches_cpu(
    blazepose_decoder: GpuHeatmapDecoder, kernel: int, min_confidence: float
) -> None:
    """Windows clipped by every border, points outside the crop, below it (MediaPipe's row test
    checks the column), non-finite points, fewer landmarks than channels."""
    rng = np.random.default_rng(kernel)
    heatmaps = (3 * rng.standard_normal(BLAZEPOSE_SHAPE)).astype(np.float32)
    corners = [[0.5, 0.5], [255.9, 0.1], [0.0, 255.99], [255.0, 255.0], [128.0, 0.0]]
    odd = [[-3.0, 40.0], [300.0, 40.0], [40.0, 270.0], [40.0, -0.5], [np.nan, 10.0]]
    odd += [[np.inf, 5.0], [-1e9, 3.0]]
    points = np.array(corners + odd + rng.uniform(0, 256, (20, 2)).tolist())  # 32 of 39
    want = refine_from_heatmap(points, heatmaps, kernel_size=kernel, min_confidence=min_confidence)
    got = blazepose_decoder.blazepose_refine(
        points, heatmaps, kernel_size=kernel, min_confidence=min_confidence
    )
    np.testing.assert_allclose(got, want, rtol=0, atol=REFINE_TOLERANCE_PX)
    assert np.any(got != points), "no landmark moved: the comparison proves little"


# ------------------------------------------------------------------ traffic and lifetime


def test_only_k_by_4_floats_come_back(
    real_outputs: list[dict[str, np.ndarray]], blazepose_decoder: GpuHeatmapDecoder
) -> None:
    outputs = real_outputs[0]
    heatmaps = outputs["Identity_3"]
    channels = BLAZEPOSE_SHAPE[2]
    blazepose_decoder.argmax(heatmaps)
    assert blazepose_decoder.bytes_read_back == channels * 4 * 4
    assert blazepose_decoder.bytes_uploaded == heatmaps.nbytes  # uploaded, counted, once
    landmarks = outputs["Identity"].reshape(bl.NUM_LANDMARKS, -1)[:, :2]
    blazepose_decoder.blazepose_refine(landmarks, heatmaps)
    assert blazepose_decoder.bytes_read_back == channels * 4 * 4
    # the heatmaps, the landmark cells (K vec2) and two int uniforms
    assert blazepose_decoder.bytes_uploaded == heatmaps.nbytes + (channels * 2 + 2) * 4


def test_closed_decoder_refuses_work(showbase: ShowBase) -> None:
    decoder = _decoder(showbase, (4, 4, 2))
    decoder.argmax(np.zeros((4, 4, 2), np.float32))
    decoder.close()
    with pytest.raises(PosetrackError, match="close"):
        decoder.argmax(np.zeros((4, 4, 2), np.float32))


def test_a_shader_that_does_not_build_raises_instead_of_returning_zeros(
    showbase: ShowBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Panda reports GLSL errors only on the log; the decoder says so when it is built."""
    import posetrack.stages.gpu_context as gpu_context

    for name in ("argmax.comp.glsl", "refine.comp.glsl"):
        source = (gpu_context.SHADER_DIR / name).read_text()
        (tmp_path / name).write_text(source.replace("void main() {", "void main() { oops;"))
    monkeypatch.setattr(gpu_context, "SHADER_DIR", tmp_path)
    with pytest.raises(PosetrackError, match="failed to build"):
        _decoder(showbase, (4, 4, 2))


def test_heatmaps_of_another_layout_are_refused(blazepose_decoder: GpuHeatmapDecoder) -> None:
    """[K, H, W] has the right size but the wrong layout: no silent reshape."""
    with pytest.raises(PosetrackError, match="expected"):
        blazepose_decoder.argmax(np.zeros((39, 64, 64), np.float32))
