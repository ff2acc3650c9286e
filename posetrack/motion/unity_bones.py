"""A character's pose as a Unity humanoid receiver expects it: HumanBodyBones names, Unity axes,
rotations relative to the VRM T-pose.

Axes. The character (Panda3D Actor space) is right-handed, Z up, facing -Y, its left on +X.
Unity is left-handed, +X right, +Y up, +Z forward, and a humanoid avatar faces +Z with its left
on -X (a VRM avatar as UniVRM imports it). Up, forward and the avatar's left must stay up,
forward and left: +Z -> +Y, -Y -> +Z, +X -> -X, i.e. (x, y, z) -> (-x, z, -y). That map has
determinant -1: it is the change of handedness, a reflection, not a rotation. A rotation R
becomes M R M^T (a proper rotation again); its quaternion (w, v) keeps w and turns its axis,
an axial vector, by det(M) M: (w, x, y, z) -> Unity's (x, y, z, w) = (x, -z, y, w). Check: a
turn to the character's left about up (+Z, counter-clockwise seen from above) is a turn to the
left in Unity too, which there is a negative angle about +Y (Unity's positive turns are
clockwise seen from above): (0, 0, sin) -> (0, -sin, 0).

Rest pose. A VMC receiver sets each received rotation as its own bone's localRotation. A VRM
avatar is normalised: in its T-pose (spine to head straight up, arms straight out to the
sides, legs straight down) every bone's rotation is the identity, so a bone's rotation is its
turn away from the T-pose in world axes, relative to its parent's. Our rigs rest in other poses
(the mannequin's arms hang 50 degrees in an A-pose) with joint axes of their own, so each bone
is measured from its rest orientation carried into the T-pose by the shortest swing of its rest
direction onto the T-pose direction (feet and toes keep their rest orientation: a flat foot is
the T-pose's foot): delta = W W0^-1 S^-1, W the joint's world rotation now, W0 at rest, S the
swing; local = delta_parent^-1 delta. A bone then points where the character's bone points.
"""

from dataclasses import dataclass

import numpy as np

from posetrack.retarget import quat

# The rig's canonical (VRM humanoid) bones -> Unity HumanBodyBones names: the one table.
UNITY_BONES: dict[str, str] = {
    "hips": "Hips", "spine": "Spine", "chest": "Chest", "upperChest": "UpperChest",
    "neck": "Neck", "head": "Head",
    "leftShoulder": "LeftShoulder", "leftUpperArm": "LeftUpperArm",
    "leftLowerArm": "LeftLowerArm", "leftHand": "LeftHand",
    "rightShoulder": "RightShoulder", "rightUpperArm": "RightUpperArm",
    "rightLowerArm": "RightLowerArm", "rightHand": "RightHand",
    "leftUpperLeg": "LeftUpperLeg", "leftLowerLeg": "LeftLowerLeg", "leftFoot": "LeftFoot",
    "leftToes": "LeftToes",
    "rightUpperLeg": "RightUpperLeg", "rightLowerLeg": "RightLowerLeg", "rightFoot": "RightFoot",
    "rightToes": "RightToes",
}  # fmt: skip

_UP, _DOWN, _LEFT, _RIGHT = (0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0)
# Where each bone points in the T-pose, in the character frame (Z up, facing -Y, left +X).
T_POSE: dict[str, tuple[float, float, float]] = {
    "hips": _UP, "spine": _UP, "chest": _UP, "upperChest": _UP, "neck": _UP, "head": _UP,
    "leftShoulder": _LEFT, "leftUpperArm": _LEFT, "leftLowerArm": _LEFT, "leftHand": _LEFT,
    "rightShoulder": _RIGHT, "rightUpperArm": _RIGHT, "rightLowerArm": _RIGHT,
    "rightHand": _RIGHT,
    "leftUpperLeg": _DOWN, "leftLowerLeg": _DOWN, "rightUpperLeg": _DOWN, "rightLowerLeg": _DOWN,
}  # fmt: skip

# rows: Unity x, y, z as combinations of the character's x, y, z (det -1: the handedness flip)
PANDA_TO_UNITY = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def vectors_to_unity(v: np.ndarray) -> np.ndarray:
    """Points or directions (..., 3) in the character frame -> Unity axes."""
    return np.asarray(v, dtype=np.float64) @ PANDA_TO_UNITY.T


def quats_to_unity(q: np.ndarray) -> np.ndarray:
    """Rotations (..., 4) as (w, x, y, z) in the character frame -> Unity's (x, y, z, w)."""
    q = np.asarray(q, dtype=np.float64)
    return np.stack([q[..., 1], -q[..., 3], q[..., 2], q[..., 0]], axis=-1)


@dataclass(frozen=True)
class UnityHumanoid:
    """A rig's rest pose prepared for Unity: the bones it has, parents first.

    `from_skeleton(skeleton)` takes a characters.Skeleton (or any object with its fields).
    """

    bones: tuple[str, ...]  # canonical bones, parents first
    names: tuple[str, ...]  # their HumanBodyBones names
    parent: np.ndarray  # (n,) row of each bone's parent; n (the identity row) for the root
    rest_to_t: np.ndarray  # (n, 4) W0^-1 S^-1: world rotation now -> turn from the T-pose
    offsets: np.ndarray  # (n, 3) Unity local position in the parent's T-pose frame
    rest_hips: np.ndarray  # (3,) the hips' rest position, character frame

    @classmethod
    def from_skeleton(cls, skeleton: object) -> "UnityHumanoid":
        bones = tuple(b for b in skeleton.bones if b in UNITY_BONES)
        row = {b: i for i, b in enumerate(bones)}
        n = len(bones)
        parent = np.array([row.get(skeleton.parents.get(b), n) for b in bones])
        rest = quat.normalize(np.array([skeleton.rest_world_quats[b] for b in bones], dtype=float))
        swing = np.array([_swing(skeleton, b) for b in bones])
        rest_to_t = quat.mul(quat.inverse(rest), quat.inverse(swing))
        p = {b: np.asarray(skeleton.rest_positions[b], dtype=np.float64) for b in bones}
        offsets = np.zeros((n, 3))
        for i, b in enumerate(bones):
            if parent[i] < n:  # the offset from the parent, turned with the parent into T-pose
                offsets[i] = quat.rotate(swing[parent[i]], p[b] - p[bones[parent[i]]])
        names = tuple(UNITY_BONES[b] for b in bones)
        return cls(bones, names, parent, rest_to_t, vectors_to_unity(offsets), p[bones[0]])

    def local_pose(
        self, world: np.ndarray, hips_position: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions (n, 3), rotations (n, 4) as x, y, z, w): each bone's local transform in
        Unity axes, from the joints' world rotations (n, 4) (w, x, y, z, character frame, rows
        in `bones` order). The hips' position is `hips_position` (default: at rest)."""
        delta = quat.mul(np.asarray(world, dtype=np.float64), self.rest_to_t)
        parent = np.concatenate([delta, quat.identity()[None]])[self.parent]
        local = quat.normalize(quat.mul(quat.inverse(parent), delta))
        positions = self.offsets.copy()
        hips = self.rest_hips if hips_position is None else hips_position
        positions[0] = vectors_to_unity(hips)
        return positions, quats_to_unity(local)


def _swing(skeleton: object, bone: str) -> np.ndarray:
    """Shortest turn of the bone's rest direction onto its T-pose direction (identity for a
    bone without one: feet, toes, or a bone the rig gives no end)."""
    target = T_POSE.get(bone)
    if target is None or bone not in skeleton.rest_tips:
        return quat.identity()
    rest = np.asarray(skeleton.rest_tips[bone]) - np.asarray(skeleton.rest_positions[bone])
    return quat.from_two_vectors(rest, np.array(target))
