"""Heatmap decode on the CPU: per-keypoint argmax and PoseNet's single-pose keypoints.

The CPU path of the decode stage and the reference the GPU decoder (posetrack.gpu.heatmaps) is
held to. Heatmaps are [H, W, K] (a leading batch dimension of 1 is accepted), K keypoint
channels last, as the models give them. BlazePose's heatmap refinement lives in
posetrack.models.blazepose_landmarks.refine_from_heatmap.
"""

import numpy as np


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
