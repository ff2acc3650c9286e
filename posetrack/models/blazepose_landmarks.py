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
from posetrack.stages.crop_cpu import CropSpec, crop_tensor
from posetrack.stages.decode_cpu import HEATMAP_KERNEL, refine_from_heatmap, sigmoid
from posetrack.stages.geometry import (
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
ROI_SCALE = 1.25  # PoseLandmarksToRoi RectTransformationCalculator scale_x / scale_y


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
    visibility = sigmoid(raw[:NUM_BODY, 3])
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
