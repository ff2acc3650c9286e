"""The GPU local-maxima search finds exactly the CPU path's PoseNet candidates, reads back a
compact list (never the scores), and hands a list that overflows its capacity to the CPU path
with a warning instead of dropping candidates.

Real scores come from the converted PoseNet (ONNX Runtime) on basketball2.png (several players)
and messi5.jpg; the adversarial ones (plateaus, edges, corners, threshold equality, NaN,
infinities, more candidates than the list holds) are synthetic, each isolating one rule of
TF.js's buildPartWithScoreQueue. Both answers are compared in `candidate_order`.
"""

import warnings
from collections.abc import Iterator

import cv2
import numpy as np
import pytest
from direct.showbase.ShowBase import ShowBase

from posetrack.downloads.samples import sample_path
from posetrack.models.posenet_decode import decode_multiple
from posetrack.models.runtime import OrtModel
from posetrack.models.zoo_tfjs import tfjs_onnx_path
from posetrack.stages.decode_cpu import Candidate, local_maxima, sigmoid
from posetrack.stages.decode_gpu import CANDIDATE_CAPACITY, GpuHeatmapDecoder, sort_candidates
from posetrack.stages.gpu_context import GpuContext

POSENET_SHAPE = (25, 25, 17)  # PoseNet at 385 x 385, output stride 16
POSENET_INPUT = 385
POSENET_STRIDE = 16
HEATMAP = "MobilenetV1/heatmap_2/BiasAdd"
TF_JS_THRESHOLD = 0.5  # TF.js decodeMultiplePoses' default scoreThreshold
BIG_CAPACITY = 8192  # for fields with thousands of plateau cells: keeps them on the GPU path


def _gpu_vs_cpu(
    decoder: GpuHeatmapDecoder, scores: np.ndarray, threshold: float
) -> tuple[list[Candidate], list[Candidate]]:
    """(GPU answer, CPU answer sorted the same way); fails on an unexpected fallback warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = decoder.local_maxima(scores, threshold)
    hwk = np.asarray(scores, np.float32).reshape(decoder.shape)  # the CPU path takes [H, W, K]
    return got, sort_candidates(local_maxima(hwk, threshold))


def _assert_same(decoder: GpuHeatmapDecoder, scores: np.ndarray, threshold: float) -> int:
    got, want = _gpu_vs_cpu(decoder, scores, threshold)
    assert got == want
    return len(got)


@pytest.fixture(scope="module")
def posenet_decoder(showbase: ShowBase) -> Iterator[GpuHeatmapDecoder]:
    decoder = GpuHeatmapDecoder(GpuContext.from_showbase(showbase), *POSENET_SHAPE)
    yield decoder
    decoder.close()


@pytest.fixture(scope="module")
def big_decoder(showbase: ShowBase) -> Iterator[GpuHeatmapDecoder]:
    decoder = GpuHeatmapDecoder(
        GpuContext.from_showbase(showbase), *POSENET_SHAPE, candidate_capacity=BIG_CAPACITY
    )
    yield decoder
    decoder.close()


@pytest.fixture(scope="module")
def real_outputs() -> dict[str, dict[str, np.ndarray]]:
    """PoseNet's outputs (the TFJS model converted to ONNX) on two real images, [H, W, C]."""
    model = OrtModel(tfjs_onnx_path("posenet"), device="cpu")
    try:
        outputs = {}
        for name in ("basketball2.png", "messi5.jpg"):
            image = cv2.cvtColor(cv2.imread(str(sample_path(name))), cv2.COLOR_BGR2RGB)
            pixels = cv2.resize(image, (POSENET_INPUT, POSENET_INPUT)).astype(np.float32)
            result = model.run({model.input_names[0]: (pixels / 127.5 - 1.0)[None]})
            outputs[name] = {key: value[0] for key, value in result.items()}
        return outputs
    finally:
        model.close()


def _scores(outputs: dict[str, np.ndarray]) -> np.ndarray:
    """Part probabilities as TF.js makes them: a float32 sigmoid of the heatmap logits."""
    return sigmoid(outputs[HEATMAP]).astype(np.float32)


# ------------------------------------------------------------------ real PoseNet scores


@pytest.mark.parametrize("threshold", [TF_JS_THRESHOLD, 0.3, 0.1])
def test_candidates_on_real_posenet_scores_equal_the_cpu_path(
    real_outputs: dict[str, dict[str, np.ndarray]],
    posenet_decoder: GpuHeatmapDecoder,
    threshold: float,
) -> None:
    for name, outputs in real_outputs.items():
        scores = _scores(outputs)
        assert scores.shape == POSENET_SHAPE
        found = _assert_same(posenet_decoder, scores[None], threshold)  # [1, H, W, K] too
        assert found >= 17, f"{name}: {found} candidates at {threshold} prove little"


def test_multi_person_decode_from_gpu_candidates_equals_the_cpu_decode(
    real_outputs: dict[str, dict[str, np.ndarray]], posenet_decoder: GpuHeatmapDecoder
) -> None:
    outputs = real_outputs["basketball2.png"]
    scores = _scores(outputs)
    fields = [outputs[f"MobilenetV1/{key}_2/BiasAdd"] for key in ("offset", "displacement_fwd",
                                                                  "displacement_bwd")]  # fmt: skip
    candidates = posenet_decoder.local_maxima(scores, TF_JS_THRESHOLD)
    gpu = decode_multiple(scores, *fields, POSENET_STRIDE, candidates=candidates)
    cpu = decode_multiple(scores, *fields, POSENET_STRIDE)
    assert len(gpu) >= 2, "basketball2.png shows several players"
    assert len(gpu) == len(cpu)
    for (gpu_score, gpu_pose), (cpu_score, cpu_pose) in zip(gpu, cpu, strict=True):
        assert gpu_score == cpu_score
        np.testing.assert_array_equal(gpu_pose, cpu_pose)


def test_only_the_compact_list_comes_back(
    real_outputs: dict[str, dict[str, np.ndarray]], posenet_decoder: GpuHeatmapDecoder
) -> None:
    scores = _scores(real_outputs["basketball2.png"])
    posenet_decoder.local_maxima(scores, TF_JS_THRESHOLD)
    # the count and CANDIDATE_CAPACITY int32 slots: 1028 bytes, against 42500 of scores
    assert posenet_decoder.bytes_read_back == (1 + CANDIDATE_CAPACITY) * 4
    # the scores and the threshold uniform (the list is cleared on the GPU, GL 4.4+)
    assert posenet_decoder.bytes_uploaded == scores.nbytes + 4


# ------------------------------------------------------------------ adversarial fields


def test_plateaus_give_one_candidate_per_cell(big_decoder: GpuHeatmapDecoder) -> None:
    scores = np.zeros(POSENET_SHAPE, np.float32)
    scores[3:6, 3:6, 0] = 0.8  # a flat 3 x 3 top: all 9 cells
    scores[10:12, 10:14, 1] = 0.7  # a flat 2 x 4 top with a higher cell beside it
    scores[12, 14, 1] = 0.75  # suppresses (11, 13) only
    scores[:, :, 2] = 0.6  # the whole channel flat: every cell
    scores[20, 5:9, 3] = 0.9  # a flat ridge on a slope: the ridge only
    scores[19, 5:9, 3] = scores[21, 5:9, 3] = 0.85
    count = _assert_same(big_decoder, scores, TF_JS_THRESHOLD)
    assert count == 9 + 7 + 1 + 25 * 25 + 4


def test_peaks_on_edges_and_corners(posenet_decoder: GpuHeatmapDecoder) -> None:
    height, width, channels = POSENET_SHAPE
    rng = np.random.default_rng(3)
    scores = rng.uniform(0.0, 0.4, POSENET_SHAPE).astype(np.float32)
    border = [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1),
              (0, 7), (height - 1, 11), (5, 0), (17, width - 1)]  # fmt: skip
    for part in range(channels):
        row, col = border[part % len(border)]
        scores[row, col, part] = 0.9
        scores[height - 1 - row, width - 1 - col, part] = 0.9  # the opposite side too
    # a higher cell just inside the edge takes the edge cell's place in the last channel
    scores[1, 1, channels - 1] = 0.95
    got, want = _gpu_vs_cpu(posenet_decoder, scores, TF_JS_THRESHOLD)
    assert got == want
    assert {(c.y, c.x) for c in got} >= set(border)


def test_threshold_equality_matches_numpy(posenet_decoder: GpuHeatmapDecoder) -> None:
    """A score equal to the threshold passes, one a float32 step below does not; a threshold
    float32 cannot hold (0.7 rounds down) compares as numpy does: in float32 for a Python float,
    in float64 for a numpy float64."""
    scores = np.zeros(POSENET_SHAPE, np.float32)
    below = np.nextafter(np.float32(0.5), np.float32(0))
    scores[2, 2, 0], scores[8, 8, 0], scores[14, 14, 0] = 0.5, below, np.float32(0.7)
    scores[20, 20, 1] = np.nextafter(np.float32(0.7), np.float32(1))
    got, want = _gpu_vs_cpu(posenet_decoder, scores, 0.5)
    assert got == want and [(c.y, c.part) for c in got] == [(20, 1), (14, 0), (2, 0)]
    for threshold in (0.7, np.float64(0.7), np.float32(0.7), 0.5000001, np.inf, np.nan):
        _assert_same(posenet_decoder, scores, threshold)
    assert len(posenet_decoder.local_maxima(scores, np.float64(0.7))) == 1  # 0.7f < 0.7
    assert len(posenet_decoder.local_maxima(scores, 0.7)) == 2  # 0.7f >= float32(0.7)


def test_all_below_threshold_gives_nothing(posenet_decoder: GpuHeatmapDecoder) -> None:
    rng = np.random.default_rng(5)
    scores = rng.uniform(0.0, 0.49, POSENET_SHAPE).astype(np.float32)
    assert posenet_decoder.local_maxima(scores, TF_JS_THRESHOLD) == []
    assert local_maxima(scores, TF_JS_THRESHOLD) == []


def test_nan_and_infinities_rule_cells_as_numpy_does(posenet_decoder: GpuHeatmapDecoder) -> None:
    """NaN is never a candidate and rules out its 3 x 3 neighbours (numpy's window max is NaN);
    +inf is a maximum, -inf never passes a finite threshold."""
    scores = np.zeros(POSENET_SHAPE, np.float32)
    scores[5, 5, 0], scores[5, 6, 0] = np.nan, 0.9
    scores[10, 10, 1], scores[12, 12, 1] = np.inf, 0.9
    scores[11, 11, 1] = np.inf  # ties with (10, 10): both
    scores[0:3, 0:3, 2] = -np.inf
    scores[20, 20, 3] = 0.9  # untouched control
    count = _assert_same(posenet_decoder, scores, TF_JS_THRESHOLD)
    assert count == 3


@pytest.mark.parametrize("shape", [POSENET_SHAPE, (1, 1, 3), (1, 9, 2), (7, 1, 4), (13, 31, 5)])
def test_random_plateaus_equal_the_cpu_path(showbase: ShowBase, shape: tuple[int, ...]) -> None:
    """Few levels make ties everywhere: plateaus, ridges, ties with neighbours, and thin or
    non-square grids catch a swapped row and column."""
    decoder = GpuHeatmapDecoder(
        GpuContext.from_showbase(showbase), *shape, candidate_capacity=BIG_CAPACITY
    )
    rng = np.random.default_rng(sum(shape))
    try:
        for levels in (2, 3, 6):
            scores = (rng.integers(0, levels, shape) / (levels - 1)).astype(np.float32)
            for threshold in (0.0, 0.5, 1.0):
                _assert_same(decoder, scores, threshold)
        continuous = rng.random(shape).astype(np.float32)
        assert _assert_same(decoder, continuous, 0.0) > 0
    finally:
        decoder.close()


# ------------------------------------------------------------------ capacity


def _isolated_peaks(count: int) -> np.ndarray:
    """`count` strict maxima (score 0.5..1) on even cells of the PoseNet grid, the rest 0."""
    height, width, channels = POSENET_SHAPE
    scores = np.zeros(POSENET_SHAPE, np.float32)
    spots = [(y, x, k) for k in range(channels) for y in range(0, height, 2)
             for x in range(0, width, 2)]  # fmt: skip
    assert count <= len(spots)
    values = np.linspace(0.5, 1.0, count, dtype=np.float32)
    for (y, x, k), value in zip(spots[:count], values, strict=True):
        scores[y, x, k] = value
    return scores


def test_a_full_list_stays_on_the_gpu(posenet_decoder: GpuHeatmapDecoder) -> None:
    scores = _isolated_peaks(CANDIDATE_CAPACITY)
    assert _assert_same(posenet_decoder, scores, TF_JS_THRESHOLD) == CANDIDATE_CAPACITY


@pytest.mark.parametrize("count", [CANDIDATE_CAPACITY + 1, 2000])
def test_overflow_falls_back_to_the_cpu_with_a_warning(
    posenet_decoder: GpuHeatmapDecoder, count: int
) -> None:
    scores = _isolated_peaks(count)
    with pytest.warns(RuntimeWarning, match=f"{count} local maxima .* finishing .* on the CPU"):
        got = posenet_decoder.local_maxima(scores, TF_JS_THRESHOLD)
    assert len(got) == count  # nothing dropped
    assert got == sort_candidates(local_maxima(scores, TF_JS_THRESHOLD))
    # the next call fits again: the counter was cleared, the GPU answers
    _assert_same(posenet_decoder, _isolated_peaks(10), TF_JS_THRESHOLD)


def test_a_small_capacity_overflows_exactly_past_it(showbase: ShowBase) -> None:
    decoder = GpuHeatmapDecoder(
        GpuContext.from_showbase(showbase), *POSENET_SHAPE, candidate_capacity=4
    )
    try:
        assert _assert_same(decoder, _isolated_peaks(4), TF_JS_THRESHOLD) == 4
        assert decoder.bytes_read_back == 5 * 4
        with pytest.warns(RuntimeWarning, match="5 local maxima"):
            assert len(decoder.local_maxima(_isolated_peaks(5), TF_JS_THRESHOLD)) == 5
    finally:
        decoder.close()


def test_candidate_order_is_score_then_part_row_column() -> None:
    scores = np.zeros((5, 5, 2), np.float32)
    scores[0, 4, 1] = scores[4, 0, 1] = scores[2, 2, 0] = scores[4, 4, 0] = 0.6
    scores[3, 0, 1] = 0.5  # beside (4, 0): not a maximum
    scores[0, 0, 0] = 0.9
    order = [(c.part, c.y, c.x) for c in sort_candidates(local_maxima(scores, 0.5))]
    assert order == [(0, 0, 0), (0, 2, 2), (0, 4, 4), (1, 0, 4), (1, 4, 0)]
