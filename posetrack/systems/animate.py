"""The animate stage: characters ease toward their newest joint targets every rendered frame."""

import math
from collections.abc import Callable
from dataclasses import dataclass

import esper
import numpy as np
from direct.actor.Actor import Actor
from panda3d.core import ClockObject, LQuaternionf, NodePath

from posetrack.components.character import CharacterBinding, JointTargets
from posetrack.errors import PosetrackError
from posetrack.retarget import quat


def render_clock() -> float:
    """Seconds since the previous rendered frame (Panda3D's global clock)."""
    return ClockObject.get_global_clock().get_dt()


@dataclass(frozen=True)
class _Driven:
    """Which of an actor's joints a set of target bones moves (made once per set of bones)."""

    bones: tuple[str, ...]  # the targets' bones, in their order
    rows: np.ndarray  # positions in `bones` of those the actor has a joint for
    nodes: list[NodePath]  # the controlJoint NodePath of each of those


class AnimateSystem(esper.Processor):
    """Moves each bound character a step toward its targets; call it once per rendered frame.

    Reads CharacterBinding and JointTargets. Writes the actor's joints through controlJoint
    NodePaths (made once per character, joint names checked first: Panda3D only warns about a
    misspelt one), or the sprite's bone angles. The step closes the fraction
    1 - exp(-dt / response_s) of the gap, a first-order response that does not depend on the
    frame rate: a 30 Hz model drawn at 60 or 144 Hz moves smoothly between its updates, and a
    dropped render frame just takes a larger step. `clock()` gives dt (default: Panda's).
    """

    def __init__(self, clock: Callable[[], float] = render_clock) -> None:
        self.clock = clock
        self._joints: dict[int, dict[str, NodePath]] = {}
        self._driven: dict[int, _Driven] = {}
        self._rest_pos: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def process(self) -> None:
        dt = max(0.0, float(self.clock()))
        for ent, (binding, targets) in esper.get_components(CharacterBinding, JointTargets):
            # how far this frame goes: 1 - exp(-dt / tau), all the way when tau is 0
            tau = binding.response_s
            step = 1.0 if tau <= 0.0 else 1.0 - math.exp(-dt / tau)
            if binding.sprite is not None:
                _ease_sprite(binding.sprite, targets.angles, step)
                continue
            joints = self._joints.get(ent)
            if joints is None:
                joints = self._joints[ent] = control_joints(binding.actor, binding.skeleton)
            driven = self._driven.get(ent)
            if driven is None or driven.bones != tuple(targets.local_quats):
                driven = self._driven[ent] = _drive(joints, tuple(targets.local_quats))
            _ease_joints(driven, targets.local_quats, step)
            if binding.config.root_motion and targets.root_position is not None:
                self._move_root(ent, binding, joints["hips"], targets.root_position, step)
        for ent in [e for e in self._joints if not esper.entity_exists(e)]:
            del self._joints[ent]
            self._driven.pop(ent, None)

    def _move_root(
        self, ent: int, binding: CharacterBinding, hips: NodePath, target: np.ndarray, step: float
    ) -> None:
        """Root motion: the hips joint's offset from rest, in its rig parent's axes."""
        skeleton = binding.skeleton
        if ent not in self._rest_pos:
            self._rest_pos[ent] = (np.array(hips.get_pos()), skeleton.rest_positions["hips"])
        local_rest, model_rest = self._rest_pos[ent]
        parent = skeleton.rig_parent_quats.get("hips", quat.identity())
        goal = local_rest + quat.rotate(quat.inverse(parent), target - model_rest)
        now = np.array(hips.get_pos())
        hips.set_pos(*(now + step * (goal - now)))


def control_joints(actor: Actor, skeleton: object, part: str = "modelRoot") -> dict[str, NodePath]:
    """controlJoint NodePaths for every bone of `skeleton`, after checking the joint names."""
    names = {j.get_name() for j in actor.getJoints(partName=part)}
    missing = sorted(j for j in skeleton.joint_of.values() if j not in names)
    if missing:
        raise PosetrackError(
            f"the actor has no joints {', '.join(missing)}; it has {', '.join(sorted(names))}"
        )
    return {b: actor.controlJoint(None, part, j) for b, j in skeleton.joint_of.items()}


def _drive(joints: dict[str, NodePath], bones: tuple[str, ...]) -> _Driven:
    """The joints that targets for `bones` move (bones the actor lacks are skipped)."""
    rows = [i for i, b in enumerate(bones) if b in joints]
    return _Driven(bones, np.array(rows, dtype=np.int64), [joints[bones[i]] for i in rows])


def _ease_joints(driven: _Driven, targets: dict[str, np.ndarray], step: float) -> None:
    """Turn every joint `step` of the way to its target along the shorter arc: one slerp for
    all joints, each joint read and written once (as controlJoint allows)."""
    if not driven.nodes:
        return
    goal = np.array(list(targets.values()), dtype=np.float64)[driven.rows]
    now = np.array([tuple(node.get_quat()) for node in driven.nodes], dtype=np.float64)
    eased = quat.slerp(now, goal, step)
    for node, q in zip(driven.nodes, eased.tolist(), strict=True):
        node.set_quat(LQuaternionf(*q))


def _ease_sprite(sprite: object, angles: dict[str, float], step: float) -> None:
    """Turn each sprite bone by `step` of the shorter arc to its target angle."""
    eased = {}
    for bone, target in angles.items():
        now = sprite.angle(bone)
        gap = (target - now + 180.0) % 360.0 - 180.0
        eased[bone] = now + step * gap
    sprite.set_pose(eased)
