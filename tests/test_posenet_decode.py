"""PoseNet decoding (TF.js semantics) on hand-made fields where the answer is known."""

import numpy as np

from posetrack.models.posenet_decode import EDGES, decode_multiple
from posetrack.stages.decode_cpu import local_maxima, posenet_keypoints, sigmoid

STRIDE, SIDE, PARTS = 16, 25, 17


def _person(center_x: float, center_y: float, scale: float) -> np.ndarray:
    """17 COCO keypoints (x, y) of an upright person."""
    unit = np.array([
        (0, -3.2), (-0.2, -3.4), (0.2, -3.4), (-0.45, -3.3), (0.45, -3.3),
        (-1, -2.4), (1, -2.4), (-1.3, -1.3), (1.3, -1.3), (-1.4, -0.3), (1.4, -0.3),
        (-0.6, 0), (0.6, 0), (-0.6, 1.6), (0.6, 1.6), (-0.6, 3.2), (0.6, 3.2),
    ])  # fmt: skip
    return unit * scale + (center_x, center_y)


def _fields(people: list[np.ndarray]):
    """Scores peaked at each keypoint's cell; offsets and displacements of the nearest person."""
    cells = np.stack(np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij"), -1) * STRIDE
    scores = np.full((SIDE, SIDE, PARTS), 0.01)
    offsets = np.zeros((SIDE, SIDE, 2 * PARTS))
    fwd = np.zeros((SIDE, SIDE, 2 * len(EDGES)))
    bwd = np.zeros_like(fwd)
    centers = np.array([p.mean(axis=0) for p in people])
    nearest = np.argmin(
        np.linalg.norm(cells[..., None, ::-1] - centers[None, None], axis=-1), axis=-1
    )
    for y in range(SIDE):
        for x in range(SIDE):
            kps = people[nearest[y, x]]
            offsets[y, x, :PARTS] = kps[:, 1] - y * STRIDE
            offsets[y, x, PARTS:] = kps[:, 0] - x * STRIDE
            for e, (parent, child) in enumerate(EDGES):
                d = kps[child] - kps[parent]
                fwd[y, x, e], fwd[y, x, e + len(EDGES)] = d[1], d[0]
                bwd[y, x, e], bwd[y, x, e + len(EDGES)] = -d[1], -d[0]
    for i, kps in enumerate(people):
        for part, (px, py) in enumerate(kps):
            cy, cx = int(round(py / STRIDE)), int(round(px / STRIDE))
            scores[cy, cx, part] = 0.9 - 0.1 * i
    return scores, offsets, fwd, bwd


def test_single_pose_is_argmax_cell_times_stride_plus_offset() -> None:
    person = _person(190, 200, 25)
    scores, offsets, _, _ = _fields([person])
    logits = np.log(scores / (1 - scores))
    keypoints = posenet_keypoints(logits, offsets, STRIDE)
    assert np.allclose(keypoints[:, :2], person, atol=1e-4)  # summed in float32
    assert np.allclose(keypoints[:, 2], sigmoid(logits.max(axis=(0, 1))))


def test_two_people_are_decoded_along_the_part_tree() -> None:
    left, right = _person(90, 200, 22), _person(290, 190, 25)
    scores, offsets, fwd, bwd = _fields([left, right])
    poses = decode_multiple(scores, offsets, fwd, bwd, STRIDE, score_threshold=0.5)
    assert len(poses) == 2
    found = sorted((kps for _, kps in poses), key=lambda k: k[0, 0])
    assert np.allclose(found[0][:, :2], left, atol=1e-6)
    assert np.allclose(found[1][:, :2], right, atol=1e-6)
    assert poses[0][1][0, 0] < 150  # the brighter person (left) gives the first root


def test_a_second_root_on_the_same_person_is_suppressed() -> None:
    person = _person(190, 200, 25)
    scores, offsets, fwd, bwd = _fields([person])
    poses = decode_multiple(scores, offsets, fwd, bwd, STRIDE, score_threshold=0.5)
    assert len(poses) == 1  # 17 candidate roots, all within the NMS radius of the first pose


def test_local_maxima_keep_plateaus_and_drop_shoulders() -> None:
    scores = np.zeros((5, 5, 1))
    scores[1, 1, 0] = scores[1, 2, 0] = 0.8  # a plateau of two: both are maxima
    scores[3, 3, 0] = 0.7
    scores[3, 4, 0] = 0.6  # below its neighbour: not a maximum
    found = {(c.y, c.x) for c in local_maxima(scores, threshold=0.5)}
    assert found == {(1, 1), (1, 2), (3, 3)}
