"""Rotated regions of interest and the affine maps between source pixels and model crops.

Conventions are MediaPipe 0.10.14's (CPU path, `ImageToTensorCalculator` with its OpenCV
converter): a RegionOfInterest (centre, size in source pixels, rotation in radians, clockwise
on screen with y down) is cropped so that its four corners land on the crop's corners (0, 0),
(W, 0), (W, H), (0, H) -- corners, not pixel centres -- and sampled bilinearly.

`crop_matrix` gives source px -> crop px (for cv2.warpAffine); `invert_affine` turns it into
crop px -> source px (what ModelInput.crop_to_source holds). With y down, a point at local
offset (u, v) from the ROI centre (u along the crop's x, v along the crop's y) sits at
    source = centre + R(rotation) @ (u, v),  R(a) = [[cos a, -sin a], [sin a, cos a]],
so the crop's "up" (-v) points along (sin a, -cos a) in the source image.
"""

import math

import cv2
import numpy as np

from posetrack.components.roi import RegionOfInterest

BORDER_MODES = {
    # ImageToTensorCalculatorOptions.border_mode: BORDER_ZERO -> cv::BORDER_CONSTANT (0)
    "zero": cv2.BORDER_CONSTANT,
    # BORDER_REPLICATE, and BORDER_UNSPECIFIED (the default) -> cv::BORDER_REPLICATE
    "replicate": cv2.BORDER_REPLICATE,
}


def crop_matrix(roi: RegionOfInterest, out_w: int, out_h: int) -> np.ndarray:
    """2 x 3 affine map from source pixels to crop pixels for a (rotated) ROI.

    Same map as MediaPipe's cv::getPerspectiveTransform from cv::boxPoints(roi) to the crop's
    corners: ROI corners go to the crop's corners (0 and out_w / out_h, not pixel centres).
    """
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    sx, sy = out_w / roi.width, out_h / roi.height
    # crop = diag(sx, sy) @ R^T @ (source - centre) + (out_w / 2, out_h / 2)
    linear = np.array([[c * sx, s * sx], [-s * sy, c * sy]], dtype=np.float64)
    centre = np.array([roi.x_center, roi.y_center], dtype=np.float64)
    offset = np.array([out_w / 2.0, out_h / 2.0]) - linear @ centre
    return np.hstack([linear, offset[:, None]])


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2 x 3 affine map (float64)."""
    m = np.asarray(m, dtype=np.float64)
    linear_inv = np.linalg.inv(m[:, :2])
    return np.hstack([linear_inv, (-linear_inv @ m[:, 2])[:, None]])


def apply_affine(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map N x 2 points through a 2 x 3 affine map."""
    points = np.asarray(points, dtype=np.float64)
    return points @ m[:, :2].T + m[:, 2]


def pad_roi(roi: RegionOfInterest, out_w: int, out_h: int) -> RegionOfInterest:
    """Grow the ROI to the crop's aspect ratio, keeping its centre and rotation.

    MediaPipe's keep_aspect_ratio: true (PadRoi in image_to_tensor_utils): the crop is not
    stretched, the extra area is letterbox padding. A no-op for square ROIs into square crops.
    """
    tensor_aspect = out_h / out_w
    roi_aspect = roi.height / roi.width
    if tensor_aspect > roi_aspect:
        width, height = roi.width, roi.width * tensor_aspect
    else:
        width, height = roi.height / tensor_aspect, roi.height
    return RegionOfInterest(
        roi.x_center, roi.y_center, width, height, roi.rotation, roi.from_detector
    )


def full_frame_roi(image_w: int, image_h: int) -> RegionOfInterest:
    """The whole frame as an ROI (what ImageToTensorCalculator crops when given no rect)."""
    return RegionOfInterest(image_w / 2.0, image_h / 2.0, float(image_w), float(image_h), 0.0)


def letterbox_matrix(image_w: int, image_h: int, size: int) -> np.ndarray:
    """Source px -> crop px for the whole frame letterboxed into a size x size input.

    The long side fills the input, the short side is centred with padding on both sides
    (keep_aspect_ratio: true on the full-frame ROI, as the pose detector's input is made).
    """
    return crop_matrix(pad_roi(full_frame_roi(image_w, image_h), size, size), size, size)


def warp_crop(
    image: np.ndarray, matrix: np.ndarray, out_w: int, out_h: int, border: str = "zero"
) -> np.ndarray:
    """Sample the crop: bilinear (MediaPipe's cv::INTER_LINEAR), `border` outside the frame.

    `border` is "zero" (BORDER_ZERO: the detector's letterbox) or "replicate" (the landmark
    crop: its ImageToTensorCalculator leaves border_mode unset, which means replicate). Works
    on any channel order; the dtype is kept (uint8 in, uint8 out, as MediaPipe warps before
    converting to float).
    """
    return cv2.warpAffine(
        image,
        np.asarray(matrix, dtype=np.float64),
        (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=BORDER_MODES[border],
        borderValue=0,
    )


def normalize_radians(angle: float) -> float:
    """Wrap to [-pi, pi) like MediaPipe's NormalizeRadians."""
    return angle - 2.0 * math.pi * math.floor((angle + math.pi) / (2.0 * math.pi))


def roi_from_alignment_points(
    center: np.ndarray,
    scale_point: np.ndarray,
    scale: float = 1.25,
    from_detector: bool = False,
) -> RegionOfInterest:
    """The body ROI from two alignment points in source pixels (MediaPipe's PoseDetectionToRoi
    and PoseLandmarksToRoi subgraphs, identical options).

    AlignmentPointsRectsCalculator: centre = start point, side = 2 * |scale - centre|;
    rotation = NormalizeRadians(90 deg - atan2(-(y1 - y0), x1 - x0))
    (rotation_vector_target_angle_degrees: 90, i.e. the scale point straight above the centre
    means no rotation). RectTransformationCalculator: square_long: true, then
    scale_x = scale_y = 1.25 (the `scale` argument). square_long is a no-op in pixels: the
    alignment rect is already square there, so the image size does not enter.
    """
    x0, y0 = float(center[0]), float(center[1])
    x1, y1 = float(scale_point[0]), float(scale_point[1])
    box_size = 2.0 * math.hypot(x1 - x0, y1 - y0)
    rotation = normalize_radians(math.pi / 2.0 - math.atan2(-(y1 - y0), x1 - x0))
    return RegionOfInterest(
        x_center=x0,
        y_center=y0,
        width=box_size * scale,
        height=box_size * scale,
        rotation=rotation,
        from_detector=from_detector,
    )
