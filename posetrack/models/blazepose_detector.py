"""BlazePose person detector: input tensor, SSD decoding, weighted NMS, detection -> body ROI.

Reproduces MediaPipe 0.10.14's `PoseDetectionCpu` and `PoseDetectionToRoi` subgraphs (option
values read from the graphs compiled into the mediapipe wheel). Inputs and outputs of the model:
`input_1` [1, 224, 224, 3] RGB in [-1, 1]; `Identity` [1, 2254, 12] (box x, y, w, h and four
keypoints x, y, in input pixels relative to the anchor), `Identity_1` [1, 2254, 1] score logits.
The box is the face; keypoint 0 is the hip centre, keypoint 1 the scale point above the head.
"""

import math
from dataclasses import dataclass

import numpy as np

from posetrack.components.roi import RegionOfInterest
from posetrack.stages.crop_cpu import CropSpec, crop_tensor
from posetrack.stages.geometry import (
    apply_affine,
    letterbox_matrix,
    roi_from_alignment_points,
)

INPUT_SIZE = 224  # ImageToTensorCalculator output_tensor_width/height: 224
NUM_BOXES = 2254  # TensorsToDetectionsCalculator num_boxes
NUM_KEYPOINTS = 4  # num_keypoints: 4, num_values_per_keypoint: 2, keypoint_coord_offset: 4
# SsdAnchorsCalculator options of pose_detection_cpu
ANCHOR_MIN_SCALE = 0.1484375  # min_scale
ANCHOR_MAX_SCALE = 0.75  # max_scale
ANCHOR_OFFSET = 0.5  # anchor_offset_x / anchor_offset_y: anchors at cell centres
ANCHOR_STRIDES = (8, 16, 32, 32, 32)  # strides, num_layers: 5
ANCHOR_ASPECT_RATIOS = (1.0,)  # aspect_ratios
INTERPOLATED_SCALE_ASPECT_RATIO = 1.0  # proto default: one extra anchor per layer
# TensorsToDetectionsCalculator options
COORD_SCALE = 224.0  # x_scale, y_scale, w_scale, h_scale: raw values are input pixels
SCORE_CLIP = 100.0  # score_clipping_thresh
MIN_SCORE = 0.5  # min_score_thresh (mp.solutions.pose's min_detection_confidence default)
# NonMaxSuppressionCalculator: algorithm WEIGHTED, overlap_type INTERSECTION_OVER_UNION
NMS_IOU_THRESHOLD = 0.3  # min_suppression_threshold
# PoseDetectionToRoi: AlignmentPointsRectsCalculator start/end keypoints, Rect.. scale 1.25
ROI_CENTER_KEYPOINT = 0  # rotation_vector_start_keypoint_index
ROI_SCALE_KEYPOINT = 1  # rotation_vector_end_keypoint_index
ROI_SCALE = 1.25  # RectTransformationCalculator scale_x / scale_y


@dataclass
class Detections:
    """Decoded detections, best first. Units are those of the stage that made them."""

    scores: np.ndarray  # N, probability
    boxes: np.ndarray  # N x 4: xmin, ymin, width, height
    keypoints: np.ndarray  # N x 4 x 2: x, y


def ssd_anchors() -> np.ndarray:
    """The detector's 2254 anchors, N x 4 (x_center, y_center, width, height), normalised.

    MediaPipe's SsdAnchorsCalculator: layers of equal stride are merged; each layer adds one
    anchor per aspect ratio plus one interpolated-scale anchor, all per feature-map cell, in
    row-major cell order. fixed_anchor_size: true makes every width and height 1.
    """
    anchors: list[np.ndarray] = []
    num_layers = len(ANCHOR_STRIDES)
    layer = 0
    while layer < num_layers:
        stride = ANCHOR_STRIDES[layer]
        per_cell = 0
        last = layer
        while last < num_layers and ANCHOR_STRIDES[last] == stride:
            per_cell += len(ANCHOR_ASPECT_RATIOS)
            per_cell += 1 if INTERPOLATED_SCALE_ASPECT_RATIO > 0 else 0
            last += 1
        rows = math.ceil(INPUT_SIZE / stride)
        cols = math.ceil(INPUT_SIZE / stride)
        ys, xs = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        centres = np.stack([(xs + ANCHOR_OFFSET) / cols, (ys + ANCHOR_OFFSET) / rows], axis=-1)
        centres = np.repeat(centres.reshape(-1, 2), per_cell, axis=0)
        anchors.append(np.hstack([centres, np.ones_like(centres)]))
        layer = last
    return np.concatenate(anchors).astype(np.float32)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in float64 (float32 exp overflows at the +-100 score clip)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def decode_boxes(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, min_score: float = MIN_SCORE
) -> Detections:
    """TensorsToDetectionsCalculator: anchor-relative raw values -> normalised input coordinates.

    reverse_output_order: true means x, y, w, h order; no exponential on the size; scores
    clipped to +-100, sigmoid, kept when >= min_score; boxes with negative or NaN size dropped.
    """
    raw = np.asarray(raw_boxes, dtype=np.float32).reshape(-1, 4 + 2 * NUM_KEYPOINTS)
    scores = sigmoid(np.clip(np.asarray(raw_scores).reshape(-1), -SCORE_CLIP, SCORE_CLIP))
    keep = np.flatnonzero(scores >= min_score)
    raw, anchor, scores = raw[keep], anchors[keep], scores[keep]
    centre = raw[:, 0:2] / COORD_SCALE * anchor[:, 2:4] + anchor[:, 0:2]
    size = raw[:, 2:4] / COORD_SCALE * anchor[:, 2:4]
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) / COORD_SCALE
    keypoints = keypoints * anchor[:, None, 2:4] + anchor[:, None, 0:2]
    boxes = np.hstack([centre - size / 2.0, size])
    valid = np.all(size >= 0, axis=1)  # NaN compares False: dropped too
    return Detections(scores[valid], boxes[valid].astype(np.float64),
                      keypoints[valid].astype(np.float64))  # fmt: skip


def _iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Intersection over union of N boxes (xmin, ymin, w, h) with one box."""
    x0 = np.maximum(boxes[:, 0], box[0])
    y0 = np.maximum(boxes[:, 1], box[1])
    x1 = np.minimum(boxes[:, 0] + boxes[:, 2], box[0] + box[2])
    y1 = np.minimum(boxes[:, 1] + boxes[:, 3], box[1] + box[3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = boxes[:, 2] * boxes[:, 3] + box[2] * box[3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(detections: Detections, iou_threshold: float = NMS_IOU_THRESHOLD) -> Detections:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Repeatedly: take the best remaining detection; every remaining one overlapping it by
    IoU > threshold (itself included) is a candidate; the output keeps the best score and the
    score-weighted mean of the candidates' box corners and keypoints; candidates are removed.
    """
    order = np.argsort(-detections.scores, kind="stable")
    scores, boxes, keypoints = [], [], []
    while order.size:
        top = order[0]
        overlap = _iou(detections.boxes[order], detections.boxes[top]) > iou_threshold
        members, order = order[overlap], order[~overlap]
        weights = detections.scores[members]
        total = weights.sum()
        corners = np.hstack(
            [
                detections.boxes[members, :2],
                detections.boxes[members, :2] + detections.boxes[members, 2:],
            ]
        )
        mean = (weights[:, None] * corners).sum(axis=0) / total
        boxes.append(np.concatenate([mean[:2], mean[2:] - mean[:2]]))
        keypoints.append((weights[:, None, None] * detections.keypoints[members]).sum(0) / total)
        scores.append(detections.scores[top])
    if not scores:
        return Detections(np.zeros(0), np.zeros((0, 4)), np.zeros((0, NUM_KEYPOINTS, 2)))
    return Detections(np.array(scores), np.array(boxes), np.array(keypoints))


def to_source(detections: Detections, crop_to_source: np.ndarray) -> Detections:
    """Normalised input coordinates -> source pixels (DetectionLetterboxRemovalCalculator and
    the image-size scaling in one map; the letterbox map has no rotation, so boxes stay boxes)."""
    scale = INPUT_SIZE * np.array([crop_to_source[0, 0], crop_to_source[1, 1]])
    corners = apply_affine(crop_to_source, detections.boxes[:, :2] * INPUT_SIZE)
    keypoints = apply_affine(crop_to_source, detections.keypoints.reshape(-1, 2) * INPUT_SIZE)
    return Detections(
        detections.scores,
        np.hstack([corners, detections.boxes[:, 2:] * scale]),
        keypoints.reshape(detections.keypoints.shape),
    )


def roi_from_detection(keypoints_px: np.ndarray) -> RegionOfInterest:
    """PoseDetectionToRoi: the body ROI from one detection's keypoints in source pixels."""
    return roi_from_alignment_points(
        keypoints_px[ROI_CENTER_KEYPOINT], keypoints_px[ROI_SCALE_KEYPOINT],
        scale=ROI_SCALE, from_detector=True,
    )  # fmt: skip


def detector_crop(image_w: int, image_h: int) -> CropSpec:
    """The detector's input: the frame letterboxed into 224 x 224, RGB, in [-1, 1].

    Zero outside the frame (border_mode: BORDER_ZERO), bilinear, warped as uint8 then scaled
    (output_tensor_float_range -1..1), as MediaPipe's OpenCV converter does.
    """
    matrix = letterbox_matrix(image_w, image_h, INPUT_SIZE)
    return CropSpec(matrix, INPUT_SIZE, INPUT_SIZE, (-1.0, 1.0), "zero")


def preprocess_detector(frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CPU crop for `detector_crop`: (tensor [1, 224, 224, 3] float32, crop_to_source)."""
    height, width = frame_bgr.shape[:2]
    spec = detector_crop(width, height)
    return crop_tensor(frame_bgr, spec), spec.crop_to_source


class DetectorDecoder:
    """Detector outputs -> body ROIs in source pixels, best first. Holds the anchors."""

    def __init__(self, min_score: float = MIN_SCORE) -> None:
        self.anchors = ssd_anchors()
        self.min_score = min_score

    def detections(self, outputs: dict[str, np.ndarray], crop_to_source: np.ndarray) -> Detections:
        """Decoded, suppressed detections in source pixels, best first."""
        found = decode_boxes(outputs["Identity"], outputs["Identity_1"], self.anchors,
                             self.min_score)  # fmt: skip
        return to_source(weighted_nms(found), crop_to_source)

    def decode(
        self,
        outputs: dict[str, np.ndarray],
        crop_to_source: np.ndarray,
        image_w: int = 0,
        image_h: int = 0,
    ) -> list[RegionOfInterest]:
        """Body ROIs, best first (MediaPipe's pose graph uses only the first). The image size is
        accepted for symmetry with MediaPipe's graph; in pixels the ROI does not depend on it."""
        found = self.detections(outputs, crop_to_source)
        return [roi_from_detection(kp) for kp in found.keypoints]
