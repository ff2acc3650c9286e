"""PoseNet decoding with TF.js's semantics (@tensorflow-models/posenet), numpy CPU path.

Model outputs, for a heatmap of H x W cells and K = 17 COCO keypoints:
- scores [H, W, K]: heatmap probabilities (sigmoid already applied);
- offsets [H, W, 2K]: the y offsets of the K parts, then their x offsets (in input pixels);
- displacements_fwd / displacements_bwd [H, W, 2E]: for the E = 16 edges of the part tree, y
  then x, pointing parent -> child (fwd) and child -> parent (bwd).
A keypoint is `argmax_cell * output_stride + offset[cell]`, in the model input's pixels.
The single-person decode is posetrack.stages.decode_cpu.posenet_keypoints (and its GPU twin).
"""

import heapq

import numpy as np

from posetrack.models.skeletons import COCO_17
from posetrack.stages.decode_cpu import Candidate, local_maxima

# TF.js posenet's poseChain: the part tree, parent -> child, walked from any root part
_CHAIN = (
    ("nose", "left_eye"), ("left_eye", "left_ear"), ("nose", "right_eye"),
    ("right_eye", "right_ear"), ("nose", "left_shoulder"), ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"), ("left_shoulder", "left_hip"), ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"), ("nose", "right_shoulder"), ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"), ("right_shoulder", "right_hip"), ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
)  # fmt: skip
EDGES: tuple[tuple[int, int], ...] = tuple((COCO_17.index(a), COCO_17.index(b)) for a, b in _CHAIN)
OFFSET_REFINE_STEPS = 2  # TF.js offsetRefineStep in traverseToTargetKeypoint


def keypoint_at(offsets: np.ndarray, y: int, x: int, part: int, stride: int) -> np.ndarray:
    """Image (x, y) of `part` seen from heatmap cell (y, x)."""
    k = offsets.shape[2] // 2
    return np.array([x * stride + offsets[y, x, part + k], y * stride + offsets[y, x, part]])


def decode_multiple(
    scores: np.ndarray,
    offsets: np.ndarray,
    displacements_fwd: np.ndarray,
    displacements_bwd: np.ndarray,
    stride: int,
    max_poses: int = 10,
    score_threshold: float = 0.5,
    nms_radius: float = 20.0,
    candidates: list[Candidate] | None = None,
) -> list[tuple[float, np.ndarray]]:
    """TF.js decodeMultiplePoses. Returns [(pose score, K x 3 (x, y, score))], best root first.

    `candidates` may come from elsewhere (the GPU local-maxima search); by default they are
    found here. Roots are taken best first; a root within nms_radius of the same part of a pose
    already found is skipped; the pose grows along the part tree by the displacement fields.
    """
    queue = candidates if candidates is not None else local_maxima(scores, score_threshold)
    heap = [(-c.score, c.part, c.y, c.x) for c in queue]  # TF.js's max-heap
    heapq.heapify(heap)
    poses: list[tuple[float, np.ndarray]] = []
    squared_radius = nms_radius * nms_radius
    while len(poses) < max_poses and heap:
        negative_score, part, y, x = heapq.heappop(heap)
        root = keypoint_at(offsets, y, x, part, stride)
        if _near_same_part(poses, root, part, squared_radius):
            continue
        keypoints = _grow_pose(-negative_score, part, root, scores, offsets, stride,
                               displacements_fwd, displacements_bwd)  # fmt: skip
        poses.append((_instance_score(poses, keypoints, squared_radius), keypoints))
    return poses


def _near_same_part(poses, point: np.ndarray, part: int, squared_radius: float) -> bool:
    return any(np.sum((kps[part, :2] - point) ** 2) <= squared_radius for _, kps in poses)


def _instance_score(poses, keypoints: np.ndarray, squared_radius: float) -> float:
    """Mean keypoint score, not counting parts that sit on the same part of an earlier pose."""
    total = sum(
        keypoints[part, 2]
        for part in range(len(keypoints))
        if not _near_same_part(poses, keypoints[part, :2], part, squared_radius)
    )
    return float(total / len(keypoints))


def _grow_pose(root_score, root_part, root_xy, scores, offsets, stride, fwd, bwd) -> np.ndarray:
    parts = scores.shape[2]
    keypoints = np.full((parts, 3), np.nan)
    keypoints[root_part] = (*root_xy, root_score)
    # children -> parents first (backward displacements), edges in reverse order
    for edge in reversed(range(len(EDGES))):
        parent, child = EDGES[edge]
        if not np.isnan(keypoints[child, 2]) and np.isnan(keypoints[parent, 2]):
            keypoints[parent] = _traverse(
                edge, keypoints[child, :2], parent, scores, offsets, stride, bwd
            )
    # then parents -> children (forward displacements)
    for edge, (parent, child) in enumerate(EDGES):
        if not np.isnan(keypoints[parent, 2]) and np.isnan(keypoints[child, 2]):
            keypoints[child] = _traverse(
                edge, keypoints[parent, :2], child, scores, offsets, stride, fwd
            )
    return keypoints


def _nearest_cell(point: np.ndarray, stride: int, height: int, width: int) -> tuple[int, int]:
    # TF.js getStridedIndexNearPoint: round half away from zero (Math.round: half up), clamped
    x = int(np.clip(np.floor(point[0] / stride + 0.5), 0, width - 1))
    y = int(np.clip(np.floor(point[1] / stride + 0.5), 0, height - 1))
    return y, x


def _traverse(edge, source_xy, target, scores, offsets, stride, displacements) -> np.ndarray:
    height, width, _ = scores.shape
    edges = displacements.shape[2] // 2
    y, x = _nearest_cell(source_xy, stride, height, width)
    point = source_xy + np.array([displacements[y, x, edge + edges], displacements[y, x, edge]])
    for _ in range(OFFSET_REFINE_STEPS):
        y, x = _nearest_cell(point, stride, height, width)
        point = keypoint_at(offsets, y, x, target, stride)
    y, x = _nearest_cell(point, stride, height, width)
    return np.array([point[0], point[1], scores[y, x, target]])
