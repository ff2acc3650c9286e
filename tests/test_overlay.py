"""Pose drawing and the overlay writer, on real footage (messi5.jpg, the Sports2D clip)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from posetrack.cli.overlay import OverlayWriter, draw_poses, line_width
from posetrack.components.pose import PoseEstimate, PoseResult
from posetrack.errors import PosetrackError
from posetrack.models.skeletons import COCO_17, bones

# Hand-placed on the footballer in messi5.jpg (548x342): x, y, confidence.
MESSI_COCO = {
    "nose": (236, 95, 0.9), "left_eye": (243, 88, 0.9), "right_eye": (228, 88, 0.9),
    "left_ear": (250, 92, 0.9), "right_ear": (218, 92, 0.9),
    "left_shoulder": (290, 125, 0.9), "right_shoulder": (175, 125, 0.9),
    "left_elbow": (320, 150, 0.9), "right_elbow": (125, 108, 0.9),
    "left_wrist": (370, 165, 0.9), "right_wrist": (75, 95, 0.2),  # below the threshold
    "left_hip": (300, 235, 0.9), "right_hip": (240, 250, 0.9),
    "left_knee": (360, 250, 0.9), "right_knee": (240, 280, 0.9),
    "left_ankle": (430, 270, 0.9), "right_ankle": (275, 320, 0.9),
}  # fmt: skip


def messi_result() -> PoseResult:
    keypoints = np.array([MESSI_COCO[name] for name in COCO_17], dtype=np.float32)
    return PoseResult(0, 0.0, COCO_17, [PoseEstimate(keypoints, score=0.9)])


def changed_mask(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_bones_and_joints_are_drawn_where_they_are_and_nowhere_else(messi_image):
    image = cv2.imread(str(messi_image))
    original = image.copy()
    drawn = draw_poses(image, messi_result(), min_confidence=0.5)
    np.testing.assert_array_equal(image, original)  # the input is left alone
    changed = changed_mask(image, drawn)
    points = {name: np.array(MESSI_COCO[name][:2]) for name in COCO_17}
    visible = [i for i, name in enumerate(COCO_17) if MESSI_COCO[name][2] >= 0.5]
    drawn_bones = [(a, b) for a, b in bones(COCO_17) if a in visible and b in visible]
    # every drawn bone changes the pixel at its middle, every visible joint at its centre
    for a, b in drawn_bones:
        mid = (points[COCO_17[a]] + points[COCO_17[b]]) // 2
        assert changed[mid[1], mid[0]], (COCO_17[a], COCO_17[b])
    for i in visible:
        x, y = points[COCO_17[i]]
        assert changed[y, x], COCO_17[i]
    # nothing changes farther than a few pixels from a drawn bone or joint
    near = np.zeros(changed.shape, np.uint8)
    reach = line_width(image.shape[1], image.shape[0]) + 4  # half width, joint radius, AA fringe
    for a, b in drawn_bones:
        cv2.line(near, tuple(points[COCO_17[a]]), tuple(points[COCO_17[b]]), 1, 2 * reach)
    for i in visible:
        cv2.circle(near, tuple(points[COCO_17[i]]), reach, 1, -1)
    assert not np.any(changed & (near == 0))
    # the low-confidence wrist and the bone to it are left out
    wrist, elbow = points["right_wrist"], points["right_elbow"]
    assert not changed[wrist[1], wrist[0]]
    mid = (wrist + elbow) // 2
    assert not changed[mid[1], mid[0]]


def test_line_width_grows_with_the_image():
    assert line_width(548, 342) == 2
    assert line_width(1920, 1080) == 4


def test_no_pose_draws_nothing(messi_image):
    image = cv2.imread(str(messi_image))
    empty = PoseResult(0, 0.0, COCO_17, [])
    np.testing.assert_array_equal(draw_poses(image, empty), image)


def clip_frames(clip: Path, n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    frames = [cap.read()[1] for _ in range(n)]
    cap.release()
    return frames


def test_overlay_video_of_five_frames_reads_back_as_five(sports2d_clip, tmp_path):
    out = tmp_path / "overlay.mp4"
    with OverlayWriter(out, fps=30.0) as writer:
        for frame in clip_frames(sports2d_clip, 5):
            writer.write(frame)
    assert writer.frames == 5
    cap = cv2.VideoCapture(str(out))
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (1768, 994)
    count = 0
    while cap.read()[0]:
        count += 1
    assert count == 5


def test_overlay_to_an_image_path_writes_that_image(sports2d_clip, tmp_path):
    out = tmp_path / "overlay.png"
    frames = clip_frames(sports2d_clip, 2)
    with OverlayWriter(out) as writer:
        for frame in frames:
            writer.write(frame)
    np.testing.assert_array_equal(cv2.imread(str(out)), frames[-1])  # the last frame written


def test_unwritable_overlay_path_is_a_clear_error(tmp_path):
    with pytest.raises(PosetrackError, match="does not exist"):
        OverlayWriter(tmp_path / "missing" / "out.mp4")
    (tmp_path / "taken.mp4").mkdir()  # a folder where the file should go
    with pytest.raises(PosetrackError, match=r"cannot write video .*taken.mp4"):
        OverlayWriter(tmp_path / "taken.mp4", size=(640, 480))
