"""A rig's rest pose in canonical (VRM humanoid) terms, read from a Panda3D Actor.

Coordinates are the Actor's own space (world space for an Actor at the origin, unrotated):
Panda3D's Z up; the generated mannequin faces -Y (towards a default camera at -Y), so its left
hand is on +X. Quaternions are Panda3D's LQuaternion components (r, i, j, k) = (w, x, y, z);
`q.xform(v)` turns a vector from the joint's own axes into Actor space.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from panda3d.core import LMatrix4f, NodePath, PartGroup, TransformState

from posetrack.characters.presets import CANONICAL_BONES, RigPreset, choose_preset, resolve
from posetrack.errors import PosetrackError

# Where a bone points at rest: the first of these canonical children the rig has.
PRIMARY_CHILD: dict[str, tuple[str, ...]] = {
    "hips": ("spine",), "spine": ("chest",), "chest": ("upperChest", "neck"),
    "upperChest": ("neck",), "neck": ("head",),
    "leftShoulder": ("leftUpperArm",), "leftUpperArm": ("leftLowerArm",),
    "leftLowerArm": ("leftHand",), "leftFoot": ("leftToes",),
    "rightShoulder": ("rightUpperArm",), "rightUpperArm": ("rightLowerArm",),
    "rightLowerArm": ("rightHand",), "rightFoot": ("rightToes",),
    "leftUpperLeg": ("leftLowerLeg",), "leftLowerLeg": ("leftFoot",),
    "rightUpperLeg": ("rightLowerLeg",), "rightLowerLeg": ("rightFoot",),
}  # fmt: skip


@dataclass
class Skeleton:
    """Rest pose of a rig: joint origins, orientations and bone ends, by canonical bone."""

    preset: str  # name of the rig preset that mapped the joints
    bones: tuple[str, ...]  # canonical bones present, parents first
    joint_of: dict[str, str]  # canonical bone -> the rig's joint name
    parents: dict[str, str | None]  # canonical bone -> nearest canonical ancestor in the rig
    rest_positions: dict[str, np.ndarray]  # joint origin at rest, Actor space (3,)
    rest_world_quats: dict[str, np.ndarray]  # joint orientation at rest, (w, x, y, z)
    # where the bone ends at rest: its primary canonical child's origin, else the mean origin
    # of the rig's own child joints (finger roots, head top); absent for a joint with none
    rest_tips: dict[str, np.ndarray] = field(default_factory=dict)
    # rest orientation (w, x, y, z) of the rig joint each bone hangs from directly (the part's
    # root transform for a top joint): a joint's controlJoint rotation is relative to that
    # joint, which need not be a canonical bone (twist, root or intermediate joints); absent:
    # the canonical parent (identity for the root)
    rig_parent_quats: dict[str, np.ndarray] = field(default_factory=dict)

    def rest_direction(self, bone: str) -> np.ndarray:
        """Unit vector from the bone's joint to its end at rest (Actor space)."""
        if bone not in self.rest_tips:
            raise PosetrackError(f"bone {bone} has no child joint, so no rest direction")
        d = self.rest_tips[bone] - self.rest_positions[bone]
        return d / np.linalg.norm(d)

    def length(self, bone: str) -> float:
        """Distance from the bone's joint to its end at rest."""
        if bone not in self.rest_tips:
            raise PosetrackError(f"bone {bone} has no child joint, so no length")
        return float(np.linalg.norm(self.rest_tips[bone] - self.rest_positions[bone]))

    @property
    def height(self) -> float:
        """Rest height: from the lowest foot/toe point to the head's end (or head joint)."""
        top = self.rest_tips.get("head", self.rest_positions["head"])[2]
        lows = [p[2] for b, p in self.rest_positions.items() if "Foot" in b or "Toes" in b]
        lows += [p[2] for b, p in self.rest_tips.items() if "Foot" in b or "Toes" in b]
        return float(top - min(lows))


def skeleton_from_actor(
    actor: NodePath, preset: str | RigPreset | None = None, part: str = "modelRoot"
) -> Skeleton:
    """Read a rig's rest pose (the joints' default transforms, not the current pose).

    `actor`: a direct.actor.Actor. `preset`: a built-in preset name, a RigPreset, or None to
    detect it from the joint names. Raises PosetrackError when a required bone is missing.
    """
    bundle = actor.getPartBundle(part)
    if bundle is None:
        raise PosetrackError(f"the actor has no part {part!r}")
    to_actor = bundle.get_root_xform() * actor.getPart(part).getMat(actor)
    nets: dict[str, LMatrix4f] = {}
    rig_parent: dict[str, str | None] = {}
    children: dict[str, list[str]] = {}
    _walk(bundle, None, to_actor, nets, rig_parent, children)

    chosen = choose_preset(list(nets), preset)
    joint_of = resolve(list(nets), chosen)
    canonical_of = {joint: bone for bone, joint in joint_of.items()}
    bones = tuple(b for b in CANONICAL_BONES if b in joint_of)
    bones = tuple(sorted(bones, key=lambda b: _depth(joint_of[b], rig_parent)))

    parents: dict[str, str | None] = {}
    for bone in bones:
        up = rig_parent[joint_of[bone]]
        while up is not None and up not in canonical_of:
            up = rig_parent[up]
        parents[bone] = canonical_of[up] if up is not None else None

    positions = {b: _position(nets[joint_of[b]]) for b in bones}
    quats = {b: _quat(nets[joint_of[b]]) for b in bones}
    tips: dict[str, np.ndarray] = {}
    for bone in bones:
        child = next((c for c in PRIMARY_CHILD.get(bone, ()) if c in joint_of), None)
        if child is not None:
            tips[bone] = positions[child]
            continue
        kids = children.get(joint_of[bone], [])
        if kids:
            tips[bone] = np.mean([_position(nets[k]) for k in kids], axis=0)
    above = {b: rig_parent[joint_of[b]] for b in bones}
    rig_parent_quats = {b: _quat(to_actor if j is None else nets[j]) for b, j in above.items()}
    return Skeleton(chosen.name, bones, joint_of, parents, positions, quats, tips, rig_parent_quats)


def _walk(
    group: PartGroup,
    parent: str | None,
    parent_net: LMatrix4f,
    nets: dict[str, LMatrix4f],
    rig_parent: dict[str, str | None],
    children: dict[str, list[str]],
) -> None:
    """Collect each joint's rest net transform (default value composed down the tree)."""
    for i in range(group.get_num_children()):
        child = group.get_child(i)
        name, net, owner = child.get_name(), parent_net, parent
        if hasattr(child, "get_default_value"):  # a CharacterJoint (not a slider, not a group)
            net = LMatrix4f(child.get_default_value()) * parent_net
            nets[name] = net
            rig_parent[name] = parent
            if parent is not None:
                children.setdefault(parent, []).append(name)
            owner = name
        _walk(child, owner, net, nets, rig_parent, children)


def _depth(joint: str, rig_parent: Mapping[str, str | None]) -> int:
    depth = 0
    while rig_parent[joint] is not None:
        joint, depth = rig_parent[joint], depth + 1
    return depth


def _position(mat: LMatrix4f) -> np.ndarray:
    return np.array(mat.get_row3(3), dtype=np.float64)


def _quat(mat: LMatrix4f) -> np.ndarray:
    q = TransformState.make_mat(mat).get_norm_quat()
    return np.array([q.get_r(), q.get_i(), q.get_j(), q.get_k()], dtype=np.float64)
