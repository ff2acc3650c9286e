"""BlazePose landmark model: ROI crop in, 33 landmarks in source pixels out, next ROI.

Reproduces MediaPipe 0.10.14's `PoseLandmarkByRoiCpu` (ImageToTensor -> model ->
TensorsToPoseLandmarksAndSegmentation -> PoseLandmarksAndSegmentationInverseProjection) and
`PoseLandmarksToRoi` subgraphs; option values read from the graphs compiled into the wheel.
Model outputs: `Identity` [1, 195] (39 x: x, y, z in crop px, visibility and presence logits),
`Identity_1` [1, 1] pose flag (already a probability), `Identity_3` [1, 64, 64, 39] heatmap
logits, `Identity_4` [1, 117] world landmarks (metres, hip-centred, crop orientation).
Landmarks 33 and 34 are the auxiliary alignment points (hip centre, scale point) that place
the next frame's ROI.
"""

import math
from collections.abc import Callable

import numpy as np

from posetrack.components.pose import PoseEstimate
from posetrack.components.roi import RegionOfInterest
from posetrack.crop import CropSpec, crop_tensor
from posetrack.geometry import (
    apply_affine,
    crop_matrix,
    pad_roi,
    roi_from_alignment_points,
)

INPUT_SIZE = 256  # output_tensor_width/height, and TensorsToLandmarks input_image_width/height
NUM_LANDMARKS = 39  # TensorsToLandmarksCalculator num_landmarks: 33 body + 2 aux + 4 unused
NUM_BODY = 33  # SplitNormalizedLandmarkListCalculator ranges 0..33: the pose landmarks
AUX_RANGE = (33, 35)  # ranges 33..35: the auxiliary landmarks (alignment points)
POSE_FLAG_THRESHOLD = 0.5  # ThresholdingCalculator threshold (min_tracking_confidence default)
# RefineLandmarksFromHeatmapCalculator kernel_size. The pose graph sets 7, but
# mp.solutions.pose (0.10.14) runs 9, the proto default: its SolutionBase round-trips the graph
# config through Python protobuf, where this calculator's options extension is not registered
# (its _pb2 is never imported), so the option is lost. Measured here: with 9 our landmarks
# match mp.solutions.pose to ~0.1 crop px on the same crop; with 7, off by up to 16 source px.
# 9 is the default because mp.solutions.pose is the reference we are held to.
HEATMAP_KERNEL = 9
GRAPH_HEATMAP_KERNEL = 7  # what the C++ graph (and importing that _pb2 first) gives
MIN_CONFIDENCE_TO_REFINE = 0.5  # min_confidence_to_refine (proto default, not overridden)
ROI_SCALE = 1.25  # PoseLandmarksToRoi RectTransformationCalculator scale_x / scale_y


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def landmark_crop(roi: RegionOfInterest) -> CropSpec:
    """The landmark model's input: the rotated ROI cropped to 256 x 256, RGB in [0, 1].

    keep_aspect_ratio: true (the ROI is padded to square first; ours already are); border_mode
    unset, which MediaPipe maps to BORDER_REPLICATE; bilinear on uint8, then scaled
    (output_tensor_float_range 0..1).
    """
    matrix = crop_matrix(pad_roi(roi, INPUT_SIZE, INPUT_SIZE), INPUT_SIZE, INPUT_SIZE)
    return CropSpec(matrix, INPUT_SIZE, INPUT_SIZE, (0.0, 1.0), "replicate")


def preprocess_landmarks(
    frame_bgr: np.ndarray, roi: RegionOfInterest
) -> tuple[np.ndarray, np.ndarray]:
    """CPU crop for `landmark_crop(roi)`: (tensor [1, 256, 256, 3] float32, crop_to_source)."""
    spec = landmark_crop(roi)
    return crop_tensor(frame_bgr, spec), spec.crop_to_source


def refine_from_heatmap(
    landmarks_crop_px: np.ndarray,
    heatmap_logits: np.ndarray,
    crop_size: int = INPUT_SIZE,
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
    finite = np.all(np.isfinite(norm), axis=1)
    safe = np.where(np.isfinite(norm), np.clip(norm, -2.0, 2.0), -2.0)
    col = np.trunc(safe[:, 0] * hm_w).astype(np.int64)  # C++ float -> int conversion
    row = np.trunc(safe[:, 1] * hm_h).astype(np.int64)
    inside = finite & (col >= 0) & (col < hm_w) & (row >= 0) & (col < hm_h)
    offset = (kernel_size - 1) // 2
    steps = np.arange(-offset, offset + 1)
    rows = row[:, None, None] + steps[None, :, None]  # N x k x 1
    cols = col[:, None, None] + steps[None, None, :]  # N x 1 x k
    in_window = (rows >= 0) & (rows < hm_h) & (cols >= 0) & (cols < hm_w)  # N x k x k
    lm = np.arange(norm.shape[0])[:, None, None]
    logits = heatmap[np.clip(rows, 0, hm_h - 1), np.clip(cols, 0, hm_w - 1), lm]
    confidence = np.where(in_window, _sigmoid(logits), 0.0)
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


def rotate_world(world: np.ndarray, rotation: float) -> np.ndarray:
    """WorldLandmarkProjectionCalculator: rotate x, y by the ROI rotation; z unchanged."""
    c, s = math.cos(rotation), math.sin(rotation)
    out = np.array(world, dtype=np.float64, copy=True)
    out[:, 0] = c * world[:, 0] - s * world[:, 1]
    out[:, 1] = s * world[:, 0] + c * world[:, 1]
    return out


def decode_landmarks(
    outputs: dict[str, np.ndarray],
    crop_to_source: np.ndarray,
    roi: RegionOfInterest,
    refine: bool = True,
    heatmap_kernel: int = HEATMAP_KERNEL,
    refiner: Callable[..., np.ndarray] | None = None,
) -> tuple[PoseEstimate | None, np.ndarray | None]:
    """Raw landmark-model outputs -> (pose in source pixels, aux landmarks 2 x 2 source px).

    (None, None) when the pose flag is not above 0.5 (MediaPipe's gate: no landmarks, and the
    graph falls back to the detector on the next frame). Keypoints: 33 x (x_px, y_px,
    visibility) with visibility = sigmoid (visibility_activation: SIGMOID); score = pose flag;
    world: 33 x 3 metres, rotated into the image's orientation by the ROI rotation.
    `heatmap_kernel`: see HEATMAP_KERNEL (GRAPH_HEATMAP_KERNEL reproduces the C++ graph).
    `refiner`: another implementation of refine_from_heatmap (the GPU one), same arguments.
    """
    flag = float(np.asarray(outputs["Identity_1"]).reshape(-1)[0])
    if not flag > POSE_FLAG_THRESHOLD:  # ThresholdingCalculator accepts value > threshold
        return None, None
    raw = np.asarray(outputs["Identity"], dtype=np.float64).reshape(NUM_LANDMARKS, -1)
    crop_px = raw[:, :2]
    if refine and "Identity_3" in outputs:  # MediaPipe passes landmarks on with no heatmap
        crop_px = (refiner or refine_from_heatmap)(
            crop_px, np.asarray(outputs["Identity_3"]), kernel_size=heatmap_kernel
        )
    source_px = apply_affine(crop_to_source, crop_px)
    visibility = _sigmoid(raw[:NUM_BODY, 3])
    keypoints = np.hstack([source_px[:NUM_BODY], visibility[:, None]])
    world = None
    if "Identity_4" in outputs:
        world_raw = np.asarray(outputs["Identity_4"], dtype=np.float64).reshape(NUM_LANDMARKS, -1)
        world = rotate_world(world_raw[:NUM_BODY, :3], roi.rotation)
    aux = source_px[AUX_RANGE[0] : AUX_RANGE[1]]
    return PoseEstimate(keypoints=keypoints, score=flag, world=world), aux


def roi_from_landmarks(
    aux_landmarks_px: np.ndarray, image_w: int, image_h: int
) -> RegionOfInterest:
    """PoseLandmarksToRoi: next frame's ROI from the aux landmarks (hip centre, scale point).

    Same alignment-points rect as the detector's (start 0, end 1, target angle 90 deg,
    square_long, scale 1.25). The image size is accepted to mirror MediaPipe's graph; in pixels
    the ROI does not depend on it.
    """
    aux = np.asarray(aux_landmarks_px, dtype=np.float64)
    return roi_from_alignment_points(aux[0], aux[1], scale=ROI_SCALE, from_detector=False)
