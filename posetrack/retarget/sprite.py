"""2D retargeting for the cut-out sprite: image keypoints -> image-plane bone angles.

Angles are degrees counter-clockwise from the viewer's right (posetrack.characters.sprite):
each bone points along its observed limb in the picture, so proportions never matter (only
directions are used). Mirror mode and the hold-then-relax gating are the 3D solver's.
"""

from typing import Any

import numpy as np

from posetrack.characters.sprite import REST_ANGLES
from posetrack.retarget import axes
from posetrack.retarget.gating import Gate
from posetrack.retarget.limbs import LIMB_BY_BONE

# Sprite bone -> (start keypoints, end keypoints); the limb table serves arms, hands and legs.
_TORSO = (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder"))
SPRITE_SOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "hips": _TORSO,
    "spine": _TORSO,
    "head": (("left_shoulder", "right_shoulder"), ("left_ear", "right_ear")),
    **{
        f"{side}{part}": (LIMB_BY_BONE[f"{side}{part}"].start, LIMB_BY_BONE[f"{side}{part}"].end)
        for side in ("left", "right")
        for part in ("UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot")
    },
}


class SpriteSolver:
    """Image-plane angles for each sprite bone, frame after frame (keeps hold/relax state)."""

    def __init__(self, config: Any, rest_angles: dict[str, float] | None = None) -> None:

        self.config = config  # a RetargetConfig: mirror and gate are used
        self.rest_angles = dict(rest_angles or REST_ANGLES)
        self._gate = Gate(config.gate)

    def solve(self, names: tuple[str, ...], pose: Any) -> tuple[dict[str, float], frozenset]:
        """(angles by bone, bones observed this frame); `pose` None: nobody in view."""
        pts: dict[str, np.ndarray] = {}
        if pose is not None:
            keypoints = np.asarray(pose.keypoints, dtype=np.float64)
            mirror = self.config.mirror
            flat = axes.image_to_character(keypoints[:, :2], mirror)[:, [0, 2]]
            good = keypoints[:, 2] >= self.config.gate.threshold
            named = axes.mirror_names(tuple(names), mirror)
            pts = {n: p for n, p, ok in zip(named, flat, good, strict=True) if ok}
        angles: dict[str, float] = {}
        observed = set()
        for bone, rest in self.rest_angles.items():
            start, end = SPRITE_SOURCES.get(bone, ((), ()))
            direction = None
            if start and all(k in pts for k in start + end):
                v = np.mean([pts[k] for k in end], axis=0) - np.mean([pts[k] for k in start], 0)
                norm = float(np.linalg.norm(v))
                direction = v / norm if norm > 0.0 else None
            if direction is not None:
                observed.add(bone)
                direction = self._gate.observed(bone, direction)
            else:
                rest_dir = np.array([np.cos(np.radians(rest)), np.sin(np.radians(rest))])
                direction = self._gate.missing_position(bone, rest_dir)
            angles[bone] = float(np.degrees(np.arctan2(direction[1], direction[0])))
        return angles, frozenset(observed)
