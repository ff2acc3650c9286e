"""Axis conversions between the tracker's frames and the character frame, and mirror mode.

MediaPipe world landmarks (BlazePose `Identity_4`, `pose_world_landmarks`): metres, origin
midway between the hips, axes those of the image: x to the image right, y DOWN, z away from the
camera (smaller z = nearer; MediaPipe documents this for z and it holds for the world landmarks:
on the Sports2D clip the nose has y < 0 and the ankles y > 0, and the shoulder nearer the camera
has the smaller z in both the image and the world landmarks). A right-handed frame.

Character frame (Panda3D): Z up, the camera at -Y looking along +Y, the character facing it
(-Y); so the person's left (on the image right, for an unmirrored camera) is the character's
left, +X. The conversion is the proper rotation (x, y, z) -> (x, z, -y).

Image keypoints (pixels, origin top-left, y down) give image-plane directions only:
(x, y) -> (x, 0, -y).

Mirror mode (default for a webcam: the avatar moves like a mirror image of the user): x is
negated AND every left/right name is swapped; each alone would be a reflection (a left arm
solved onto the right side of the body), together they are a proper pose.
"""

import numpy as np

from posetrack.retarget.limbs import mirror_name

# rows: character X, Y, Z as combinations of MediaPipe x, y, z (a rotation: det = +1)
MEDIAPIPE_TO_CHARACTER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def world_to_character(points: np.ndarray, mirror: bool) -> np.ndarray:
    """MediaPipe world landmarks (K, 3) -> character frame (K, 3); mirror negates x first."""
    p = np.asarray(points, dtype=np.float64)[:, :3].copy()
    if mirror:
        p[:, 0] = -p[:, 0]
    return p @ MEDIAPIPE_TO_CHARACTER.T


def character_to_world(points: np.ndarray, mirror: bool) -> np.ndarray:
    """Inverse of world_to_character (points in the character frame -> MediaPipe axes)."""
    p = np.asarray(points, dtype=np.float64) @ MEDIAPIPE_TO_CHARACTER
    if mirror:
        p[:, 0] = -p[:, 0]
    return p


def image_to_character(points: np.ndarray, mirror: bool) -> np.ndarray:
    """Image keypoints (K, >=2) in pixels -> image-plane points (K, 3) in the character frame,
    still in pixels (only directions and ratios are used)."""
    p = np.asarray(points, dtype=np.float64)
    x = -p[:, 0] if mirror else p[:, 0]
    return np.column_stack([x, np.zeros(len(p)), -p[:, 1]])


def mirror_names(names: tuple[str, ...], mirror: bool) -> tuple[str, ...]:
    """Keypoint names as the mirrored body sees them (left <-> right) when mirror is on."""
    return tuple(mirror_name(n) for n in names) if mirror else tuple(names)
