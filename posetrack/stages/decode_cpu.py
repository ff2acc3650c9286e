"""Heatmap decode on the CPU: per-keypoint argmax, PoseNet's single-pose keypoints, BlazePose's
heatmap refinement and PoseNet's multi-person candidates (part-score local maxima).

The CPU path of the decode stage, and the reference its GPU twin (decode_gpu.py, same
operations, same answers) is held to. `CpuHeatmapOps` is the surface a model adapter decodes
through (`HeatmapOps`); decode_gpu.GpuHeatmapOps is the other implementation. Heatmaps are
[H, W, K] (a leading batch dimension of 1 is accepted), K keypoint channels last, as the models
give them.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

# RefineLandmarksFromHeatmapCalculator kernel_size. The pose graph sets 7, but
# mp.solutions.pose (0.10.14) runs 9, the proto default: its SolutionBase round-trips the graph
# config through Python protobuf, where this calculator's options extension is not registered
# (its _pb2 is never imported), so the option is lost. Measured here: with 9 our landmarks
# match mp.solutions.pose to ~0.1 crop px on the same crop; with 7, off by up to 16 source px.
# 9 is the default because mp.solutions.pose is the reference we are held to.
HEATMAP_KERNEL = 9
GRAPH_HEATMAP_KERNEL = 7  # what the C++ graph (and importing that _pb2 first) gives
MIN_CONFIDENCE_TO_REFINE = 0.5  # min_confidence_to_refine (proto default, not overridden)
REFINE_CROP_SIZE = 256  # BlazePose's landmark crop (the refinement maps crop px to cells)
LOCAL_MAXIMUM_RADIUS = 1  # TF.js kLocalMaximumRadius: a 3 x 3 window decides a candidate


def _hwk(array: np.ndarray) -> np.ndarray:
    """[1, H, W, K] or [H, W, K] -> [H, W, K]."""
    array = np.asarray(array)
    if array.ndim == 4 and array.shape[0] == 1:
        return array[0]
    if array.ndim != 3:
        raise ValueError(f"expected heatmaps [H, W, K] or [1, H, W, K], got {array.shape}")
    return array


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in float64 (float32 overflows in exp for logits below about -88)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def argmax_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel: (flat index into the row-major H*W cells [K] int64, its value [K]).

    numpy's argmax semantics: ties go to the smallest flat index (row * W + col).
    """
    hwk = _hwk(heatmaps)
    height, width, channels = hwk.shape
    flat = hwk.reshape(height * width, channels)
    index = np.argmax(flat, axis=0).astype(np.int64)
    return index, flat[index, np.arange(channels)]


def posenet_keypoints(heatmaps: np.ndarray, offsets: np.ndarray, output_stride: int) -> np.ndarray:
    """PoseNet single-pose decode: K x 3 (x, y, score) in model-input pixels.

    keypoint = argmax_cell * output_stride + offset[cell], the offsets being [H, W, 2K] with the
    y block (channels 0..K-1) before the x block (K..2K-1), as TFJS PoseNet gives them. The sum
    is done in float32 (cell * stride is exact there), the precision the GPU decoder uses, so
    both paths give bit-identical positions; score = sigmoid(max logit) in float64.
    """
    hwk = _hwk(heatmaps)
    offs = _hwk(offsets)
    height, width, channels = hwk.shape
    if offs.shape != (height, width, 2 * channels):
        raise ValueError(f"offsets {offs.shape} do not match heatmaps {hwk.shape} (need 2K)")
    index, value = argmax_heatmaps(hwk)
    row, col = np.divmod(index, width)
    k = np.arange(channels)
    stride = np.float32(output_stride)
    y = row.astype(np.float32) * stride + offs[row, col, k].astype(np.float32)
    x = col.astype(np.float32) * stride + offs[row, col, channels + k].astype(np.float32)
    return np.stack([x.astype(np.float64), y.astype(np.float64), sigmoid(value)], axis=1)


def landmark_cells(norm: np.ndarray, height: int, width: int) -> tuple[np.ndarray, ...]:
    """(col, row, inside) of the heatmap cell under each landmark (N x 2, in crop units 0..1):
    truncated toward zero as MediaPipe's C++ float -> int conversion does; `inside` decides
    whether a landmark is refined at all, with MediaPipe's row test reproduced (it compares the
    column against the height). Both decode paths find their cells here, so they gate alike."""
    finite = np.all(np.isfinite(norm), axis=1)
    safe = np.where(np.isfinite(norm), np.clip(norm, -2.0, 2.0), -2.0)
    col = np.trunc(safe[:, 0] * width).astype(np.int64)
    row = np.trunc(safe[:, 1] * height).astype(np.int64)
    inside = finite & (col >= 0) & (col < width) & (row >= 0) & (col < height)
    return col, row, inside


def refine_from_heatmap(
    landmarks_crop_px: np.ndarray,
    heatmap_logits: np.ndarray,
    crop_size: int = REFINE_CROP_SIZE,
    kernel_size: int = HEATMAP_KERNEL,
    min_confidence: float = MIN_CONFIDENCE_TO_REFINE,
) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmapCalculator on N x 2 landmarks in crop pixels.

    For landmark i: the heatmap cell under it (truncated toward zero), a kernel_size window
    around it clipped to the heatmap, confidences = sigmoid(logits) of channel i; if the window's
    max confidence >= min_confidence, the landmark moves to the confidence-weighted mean of the
    window's cell indices (index, not index + 0.5, as MediaPipe does). Kept as is when outside
    the heatmap. MediaPipe tests `center_col >= height` where it means the row: a landmark up to
    offset rows below the crop still gets refined from the window's part inside; reproduced.
    """
    heatmap = np.asarray(heatmap_logits).reshape(heatmap_logits.shape[-3:])
    hm_h, hm_w, channels = heatmap.shape
    points = np.asarray(landmarks_crop_px, dtype=np.float64)
    refined = points.copy()
    norm = points[:channels] / crop_size
    col, row, inside = landmark_cells(norm, hm_h, hm_w)
    offset = (kernel_size - 1) // 2
    steps = np.arange(-offset, offset + 1)
    rows = row[:, None, None] + steps[None, :, None]  # N x k x 1
    cols = col[:, None, None] + steps[None, None, :]  # N x 1 x k
    in_window = (rows >= 0) & (rows < hm_h) & (cols >= 0) & (cols < hm_w)  # N x k x k
    lm = np.arange(norm.shape[0])[:, None, None]
    logits = heatmap[np.clip(rows, 0, hm_h - 1), np.clip(cols, 0, hm_w - 1), lm]
    confidence = np.where(in_window, sigmoid(logits), 0.0)
    total = confidence.sum(axis=(1, 2))
    best = confidence.max(axis=(1, 2))
    safe_total = np.where(total > 0, total, 1.0)
    mean_col = (confidence * cols).sum(axis=(1, 2)) / safe_total
    mean_row = (confidence * rows).sum(axis=(1, 2)) / safe_total
    update = inside & (best >= min_confidence) & (total > 0)
    n = norm.shape[0]
    refined[:n, 0] = np.where(update, mean_col / hm_w * crop_size, points[:n, 0])
    refined[:n, 1] = np.where(update, mean_row / hm_h * crop_size, points[:n, 1])
    return refined


@dataclass
class Candidate:
    """A part-score local maximum: a possible root of a pose."""

    score: float
    y: int
    x: int
    part: int


def local_maxima(scores: np.ndarray, threshold: float) -> list[Candidate]:
    """Cells whose score >= threshold and no neighbour in the 3 x 3 window is strictly higher
    (TF.js buildPartWithScoreQueue: plateaus give several candidates), ordered by score
    descending, then part, y, x (the order decode_multiple's heap takes them in)."""
    r = LOCAL_MAXIMUM_RADIUS
    padded = np.pad(scores, ((r, r), (r, r), (0, 0)), constant_values=-np.inf)
    height, width, _ = scores.shape
    window_max = np.max(
        [
            padded[dy : dy + height, dx : dx + width]
            for dy in range(2 * r + 1)
            for dx in range(2 * r + 1)
        ],
        axis=0,
    )
    ys, xs, parts = np.nonzero((scores >= threshold) & (scores >= window_max))
    found = [
        Candidate(float(scores[y, x, p]), int(y), int(x), int(p))
        for y, x, p in zip(ys, xs, parts, strict=True)
    ]
    return sorted(found, key=lambda c: (-c.score, c.part, c.y, c.x))


class HeatmapOps(Protocol):
    total_uploaded: int
    total_read_back: int

    def refine(self, landmarks_crop_px: np.ndarray, logits: np.ndarray, **kw) -> np.ndarray: ...
    def posenet(self, logits: np.ndarray, offsets: np.ndarray, stride: int) -> np.ndarray: ...
    def local_maxima(self, scores: np.ndarray, threshold: float) -> list[Candidate]: ...
    def close(self) -> None: ...


class CpuHeatmapOps:
    """The numpy decode path (and the reference the GPU path is tested against)."""

    total_uploaded = 0
    total_read_back = 0

    def refine(self, landmarks_crop_px: np.ndarray, logits: np.ndarray, **kw) -> np.ndarray:
        return refine_from_heatmap(landmarks_crop_px, logits, **kw)

    def posenet(self, logits: np.ndarray, offsets: np.ndarray, stride: int) -> np.ndarray:
        return posenet_keypoints(logits, offsets, stride)

    def local_maxima(self, scores: np.ndarray, threshold: float) -> list[Candidate]:
        return local_maxima(scores, threshold)

    def close(self) -> None:
        pass
