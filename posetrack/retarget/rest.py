"""A character's rest pose as the retargeting solver sees it, and forward kinematics.

`RestPose` carries the same fields as posetrack.characters.skeleton.Skeleton (canonical VRM
names, parents, world rest positions with Z up and the character facing -Y, world rest
rotations (w, x, y, z)); `RestPose.from_skeleton(obj)` joins any object with those fields.
`RestPose.arrays` holds the same rest pose as arrays, one row per bone, parents first.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from posetrack.retarget import quat
from posetrack.retarget.limbs import BONES, FORWARD, LIMBS, UP


@dataclass(frozen=True)
class RigArrays:
    """A rest pose as arrays with one row per bone, parents first (for whole-rig math).

    Row n, one past the last bone, is the identity rotation: the root's "parent".
    """

    order: tuple[str, ...]  # bone of each row
    row: dict[str, int]  # row of each bone
    parent: np.ndarray  # (n,) row of each bone's parent; n for the root
    depth: np.ndarray  # (n,) how many bones are above each one
    rest_world: np.ndarray  # (n + 1, 4) rest world rotations
    rest_world_inverse: np.ndarray  # (n + 1, 4) their inverses
    rest_local: np.ndarray  # (n, 4) rest rotation relative to the parent's rest frame


@dataclass
class RestPose:
    """Rest (bind) pose of a humanoid: everything in the character's own model space."""

    bones: tuple[str, ...]
    parents: dict[str, str | None]
    rest_positions: dict[str, np.ndarray]  # joint origin, world (model) space
    rest_world_quats: dict[str, np.ndarray]  # joint frame, world space, (w, x, y, z)

    @classmethod
    def from_skeleton(cls, skeleton: Any) -> "RestPose":
        """From an object with `bones`, `parents`, `rest_positions`, `rest_world_quats`, each
        either a dict keyed by bone name or a sequence in `bones` order (parents may be names,
        indices or None)."""
        bones = tuple(skeleton.bones)

        def keyed(values: Any) -> dict[str, Any]:
            return (
                dict(values) if isinstance(values, dict) else dict(zip(bones, values, strict=True))
            )

        parents = {
            b: (bones[p] if isinstance(p, int | np.integer) and p >= 0 else p)
            for b, p in keyed(skeleton.parents).items()
        }
        parents = {b: (None if p in ("", -1) else p) for b, p in parents.items()}
        positions = {
            b: np.asarray(v, dtype=np.float64) for b, v in keyed(skeleton.rest_positions).items()
        }
        rotations = {b: quat.normalize(v) for b, v in keyed(skeleton.rest_world_quats).items()}
        return cls(bones, parents, positions, rotations)

    def validate(self) -> None:
        """Raise ValueError naming every canonical bone the solver needs and this pose lacks."""
        missing = [
            b for b in BONES if b not in self.rest_positions or b not in self.rest_world_quats
        ]
        if missing:
            raise ValueError(
                f"rest pose lacks bones {missing}; it has {sorted(self.rest_positions)}"
            )

    @cached_property
    def arrays(self) -> RigArrays:
        """This rest pose as arrays (computed once: change a RestPose by making a new one)."""
        order = tuple(_parents_first(self))
        row = {b: i for i, b in enumerate(order)}
        n = len(order)
        parent = np.array([row.get(self.parents.get(b), n) for b in order])
        depth = np.zeros(n, dtype=np.int64)
        for i, p in enumerate(parent):
            depth[i] = 0 if p == n else depth[p] + 1
        world = np.array([self.rest_world_quats[b] for b in order] + [quat.identity()])
        inverse = quat.inverse(world)
        local = quat.mul(inverse[parent], world[:n])
        return RigArrays(order, row, parent, depth, world, inverse, local)

    def rest_local(self, bone: str) -> np.ndarray:
        """Rest rotation of `bone` relative to its parent's rest frame."""
        parent = self.parents.get(bone)
        r = self.rest_world_quats[bone]
        return r if parent is None else quat.mul(quat.inverse(self.rest_world_quats[parent]), r)

    def rest_direction(self, bone: str) -> np.ndarray:
        """Unit world direction of `bone` at rest: joint -> child joint (or its tip rule)."""
        limb = next((lb for lb in LIMBS if lb.bone == bone), None)
        if limb is None:
            raise KeyError(f"{bone} is not aimed along a limb")
        p = self.rest_positions
        if limb.rest_child is not None:
            d = p[limb.rest_child] - p[bone]
        elif limb.rest_tip == "forward":
            d = FORWARD
        elif limb.rest_tip == "up":
            d = UP
        else:  # "continue": the parent bone's own direction (a hand extends the forearm)
            d = p[bone] - p[self.parents[bone]]
        return d / np.linalg.norm(d)

    def centre(self, left: str, right: str) -> np.ndarray:
        """Midpoint of two joints at rest."""
        return 0.5 * (self.rest_positions[left] + self.rest_positions[right])

    def torso_length(self) -> float:
        """Hip centre to shoulder centre at rest."""
        up = self.centre("leftUpperArm", "rightUpperArm") - self.centre(
            "leftUpperLeg", "rightUpperLeg"
        )
        return float(np.linalg.norm(up))


def forward_kinematics(
    rest: RestPose,
    local_quats: dict[str, np.ndarray],
    root_position: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """World joint positions and world rotations of `rest` posed by `local_quats`.

    A bone missing from `local_quats` keeps its rest local rotation; the root's local rotation
    is its world rotation; `root_position` defaults to the root's rest position.
    """
    positions: dict[str, np.ndarray] = {}
    world: dict[str, np.ndarray] = {}
    for bone in _parents_first(rest):
        parent = rest.parents[bone]
        local = local_quats.get(bone, rest.rest_local(bone))
        if parent is None:
            world[bone] = quat.normalize(local)
            base = rest.rest_positions[bone] if root_position is None else root_position
            positions[bone] = np.asarray(base, dtype=np.float64)
            continue
        world[bone] = quat.normalize(quat.mul(world[parent], local))
        # the rest offset, expressed in the parent's frame, carried by the parent's new frame
        carry = quat.mul(world[parent], quat.inverse(rest.rest_world_quats[parent]))
        offset = rest.rest_positions[bone] - rest.rest_positions[parent]
        positions[bone] = positions[parent] + quat.rotate(carry, offset)
    return positions, world


def _parents_first(rest: RestPose) -> list[str]:
    order: list[str] = []
    pending = list(rest.bones)
    while pending:
        progressed = False
        for bone in list(pending):
            parent = rest.parents.get(bone)
            if parent is None or parent in order:
                order.append(bone)
                pending.remove(bone)
                progressed = True
        if not progressed:
            raise ValueError(f"bones {pending} have parents outside the skeleton (or a cycle)")
    return order
