"""The retarget stage: the filtered pose -> joint targets of each bound character."""

import esper
import numpy as np

from posetrack.components.character import CharacterBinding, FilteredPose, JointTargets
from posetrack.errors import PosetrackError
from posetrack.retarget import RestPose, Retargeter, RetargetResult, quat
from posetrack.retarget.sprite import SpriteSolver


class RetargetSystem(esper.Processor):
    """Turns each character's source pose into joint targets, once per new tracked frame.

    Reads CharacterBinding (on the character entity) and FilteredPose (on the binding's
    tracker entity). Writes JointTargets on the character entity: for an actor, rotations
    relative to each joint's own rig parent (3D solve from the world landmarks, 2D from the
    image keypoints when the model has none); for a sprite, image-plane angles. A frame with
    nobody in view lets every bone hold, then relax to rest (the solver's gating).
    """

    def __init__(self) -> None:
        self._solvers: dict[int, Retargeter | SpriteSolver] = {}

    def process(self) -> None:
        for ent, binding in esper.get_component(CharacterBinding):
            filtered = esper.try_component(binding.tracker, FilteredPose)
            done = esper.try_component(ent, JointTargets)
            # nothing new from the tracker
            if filtered is None or (done is not None and done.frame == filtered.frame):
                continue
            solver = self._solvers.get(ent)
            if solver is None:
                solver = self._solvers[ent] = _make_solver(binding)
            pose = filtered.pose
            # the sprite: image-plane angles from the image keypoints
            if isinstance(solver, SpriteSolver):
                angles, seen = solver.solve(filtered.keypoint_names, pose)
                targets = JointTargets(filtered.frame, filtered.time, angles=angles, observed=seen)
            # the actor: 3D from world landmarks (2D fallback), then rig-local rotations
            else:
                if pose is None:
                    result = solver.lost()
                else:
                    keypoints = np.asarray(pose.keypoints)
                    result = solver.solve(
                        filtered.keypoint_names, keypoints[:, 2], pose.world, keypoints[:, :2]
                    )
                targets = JointTargets(
                    filtered.frame,
                    filtered.time,
                    rig_local_quats(binding.skeleton, result),
                    result.root_position,
                    observed=result.observed,
                )
            esper.add_component(ent, targets)
        for ent in [e for e in self._solvers if not esper.entity_exists(e)]:
            del self._solvers[ent]


def _make_solver(binding: CharacterBinding) -> Retargeter | SpriteSolver:
    if (binding.actor is None) == (binding.sprite is None):
        raise PosetrackError("a CharacterBinding drives exactly one of an actor and a sprite")
    if binding.sprite is not None:
        return SpriteSolver(binding.config)
    if binding.skeleton is None:
        raise PosetrackError("an actor binding needs its skeleton (skeleton_from_actor(actor))")
    return Retargeter(RestPose.from_skeleton(binding.skeleton), binding.config)


def rig_local_quats(skeleton: object, result: RetargetResult) -> dict[str, np.ndarray]:
    """Each bone's rotation relative to the rig joint it hangs from directly, as posed now.

    The solver's local rotations are relative to the nearest canonical ancestor; a rig may put
    other joints in between (a root, twist or clavicle joint the presets do not map). Those
    stay at rest relative to that ancestor, so the direct parent's pose now is the ancestor's
    change since rest applied to the parent's rest orientation.
    """
    rest = skeleton.rest_world_quats
    above = getattr(skeleton, "rig_parent_quats", {})
    out: dict[str, np.ndarray] = {}
    for bone, world in result.world_quats.items():
        canon = skeleton.parents.get(bone)
        if bone not in above:  # no rig information: the canonical parent is the direct one
            parent_now = result.world_quats[canon] if canon else quat.identity()
        else:
            change = quat.identity()
            if canon is not None:
                change = quat.mul(result.world_quats[canon], quat.inverse(rest[canon]))
            parent_now = quat.mul(change, above[bone])
        out[bone] = quat.normalize(quat.mul(quat.inverse(parent_now), world))
    return out
