"""Drawing poses on frames, and writing the drawn frames to an MP4 (or one image)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from posetrack.components.pose import PoseResult
from posetrack.errors import PosetrackError
from posetrack.models.skeletons import bones
from posetrack.stages.sources import quiet_opencv

# BGR colours: the person's left side orange, right side blue, the middle white, as most pose
# viewers do, so a mirrored (selfie) view is easy to spot.
LEFT_BGR = (0, 140, 255)
RIGHT_BGR = (255, 160, 0)
MIDDLE_BGR = (255, 255, 255)
# Line width grows with the image: 2 px on a 640x480 frame, 4 px at 1080p, readable at both.
_PX_PER_LINE_WIDTH = 500.0
_SHIFT = 4  # cv2 fixed-point bits: sub-pixel positions keep anti-aliased lines from wobbling
IMAGE_OUTPUT_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})


def _side_colour(name: str) -> tuple[int, int, int]:
    if name.startswith("left_"):
        return LEFT_BGR
    if name.startswith("right_"):
        return RIGHT_BGR
    return MIDDLE_BGR


def line_width(width: int, height: int) -> int:
    """Bone line width in pixels for an image of this size."""
    return max(2, round(math.hypot(width, height) / _PX_PER_LINE_WIDTH))


def draw_poses(
    image_bgr: np.ndarray, result: PoseResult, min_confidence: float = 0.5
) -> np.ndarray:
    """A copy of `image_bgr` with every pose's bones and joints drawn, anti-aliased.

    Joints below `min_confidence` (and the bones touching them) are left out.
    """
    out = image_bgr.copy()
    thickness = line_width(out.shape[1], out.shape[0])
    names = result.keypoint_names
    pairs = bones(names)
    scale = 1 << _SHIFT
    for pose in result.poses:
        points = np.asarray(pose.keypoints, dtype=np.float64)
        visible = np.isfinite(points).all(axis=1) & (points[:, 2] >= min_confidence)
        fixed = np.round(np.nan_to_num(points[:, :2]) * scale).astype(np.int64)
        for a, b in pairs:
            if visible[a] and visible[b]:
                # a bone takes its colour from its child end: arm and leg bones are one side
                cv2.line(out, tuple(fixed[a]), tuple(fixed[b]), _side_colour(names[b]),
                         thickness, cv2.LINE_AA, _SHIFT)  # fmt: skip
        for i in np.flatnonzero(visible):
            cv2.circle(out, tuple(fixed[i]), (thickness + 1) * scale, _side_colour(names[i]),
                       -1, cv2.LINE_AA, _SHIFT)  # fmt: skip
        if pose.player is not None and visible.any():  # several people: who is who
            _label(out, f"P{pose.player}", points[visible, :2], thickness)
    return out


def _label(image: np.ndarray, text: str, points: np.ndarray, thickness: int) -> None:
    """`text` in white on black just above the highest of `points`, centred on them."""
    font, size = cv2.FONT_HERSHEY_SIMPLEX, thickness * 0.6  # ~1/8 of a 1080p head's height
    (w, h), _ = cv2.getTextSize(text, font, size, thickness)
    x = int(points[:, 0].mean() - w / 2)
    y = max(h + thickness, int(points[:, 1].min()) - 3 * thickness)
    cv2.putText(image, text, (x, y), font, size, (0, 0, 0), thickness * 3, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), font, size, (255, 255, 255), thickness, cv2.LINE_AA)


class OverlayWriter:
    """Writes frames to an MP4 (fourcc mp4v) at `fps`; a path ending .png/.jpg/.jpeg instead
    keeps the last frame written as that image. Frames of another size than the first are
    resized to it. Use as a context manager or call `close()`.
    """

    def __init__(self, path: str | Path, fps: float = 30.0, size: tuple[int, int] | None = None):
        self.path = Path(path)
        self.fps = fps if fps > 0 else 30.0  # a camera may report 0 fps; 30 is its usual rate
        self.frames = 0
        self._size = size
        self._writer: cv2.VideoWriter | None = None
        self._is_image = self.path.suffix.lower() in IMAGE_OUTPUT_SUFFIXES
        folder = self.path.parent
        if not folder.is_dir():
            raise PosetrackError(
                f"cannot write '{self.path}': folder '{folder}' does not exist (create it first)"
            )
        if not os.access(folder, os.W_OK):
            raise PosetrackError(f"cannot write '{self.path}': folder '{folder}' is not writable")
        if size is not None and not self._is_image:
            self._open(size)

    def _open(self, size: tuple[int, int]) -> None:
        fourcc = cv2.VideoWriter.fourcc(*"mp4v")
        with quiet_opencv():
            writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, size)
        if not writer.isOpened():
            raise PosetrackError(
                f"cannot write video '{self.path}': OpenCV could not open it for writing (check "
                "the path is writable and ends .mp4, or write a .png/.jpg for one image)"
            )
        self._size, self._writer = size, writer

    def write(self, frame_bgr: np.ndarray) -> None:
        """Append one BGR uint8 frame (for an image path: replace the image)."""
        size = (frame_bgr.shape[1], frame_bgr.shape[0])
        if self._is_image:
            with quiet_opencv():
                written = cv2.imwrite(str(self.path), frame_bgr)
            if not written:
                raise PosetrackError(f"cannot write image '{self.path}' (is the path writable?)")
            self.frames += 1
            return
        if self._writer is None:
            self._open(self._size or size)
        if size != self._size:
            frame_bgr = cv2.resize(frame_bgr, self._size, interpolation=cv2.INTER_AREA)
        assert self._writer is not None
        self._writer.write(frame_bgr)
        self.frames += 1

    def close(self) -> None:
        """Finish the file (an MP4 is unplayable until closed)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> OverlayWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
