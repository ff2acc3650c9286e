"""The VMC stream stage: each new pose of the driven character, sent to a VMC receiver."""

import esper
import numpy as np

from posetrack.characters.loading import load_character
from posetrack.components.character import CharacterBinding, FilteredPose, JointTargets
from posetrack.motion.unity_bones import UnityHumanoid
from posetrack.motion.vmc import VmcFrame, VmcSender
from posetrack.retarget import RestPose, RetargetConfig, Retargeter, RetargetResult


class VmcStreamSystem(esper.Processor):
    """Sends one VMC bundle per new pose (motion/vmc.py): at the pose rate, not the frame rate.

    Reads FilteredPose on the tracker entity, and CharacterBinding + JointTargets of the first
    3D character bound to that tracker: the targets the retarget stage solved for the newest
    pose (the Actor itself eases toward them between poses; the stream sends the poses). With
    no such character it solves the mannequin on its own (no entity, no Actor kept: its rest
    pose is read once), so a stream always carries a body. Writes nothing to the world; owns
    the sender: close().
    """

    def __init__(self, tracker: int, sender: VmcSender) -> None:
        self.tracker = tracker
        self.sender = sender
        self._sent: tuple[int, int] | None = None  # (source entity, frame) last sent
        self._rig: tuple[object, UnityHumanoid] | None = None
        self._own: tuple[Retargeter, UnityHumanoid] | None = None  # the mannequin fallback

    def process(self) -> None:
        filtered = esper.try_component(self.tracker, FilteredPose)
        if filtered is None:
            return
        # the driven character's newest targets; else the stage's own mannequin
        driven = self._driven()
        if driven is not None:
            entity, binding, targets = driven
            if self._sent == (entity, targets.frame):
                return
            humanoid = self._humanoid(binding.skeleton)
            world = np.array([targets.world_quats[b] for b in humanoid.bones])  # as solved
            hips = targets.root_position if binding.config.root_motion else None
            key, time, seen = (entity, targets.frame), targets.time, bool(targets.observed)
        else:
            if self._sent == (self.tracker, filtered.frame):
                return
            solver, humanoid = self._mannequin()
            result = _solve(solver, filtered)
            world = np.array([result.world_quats[b] for b in humanoid.bones])
            key, time, seen = (self.tracker, filtered.frame), filtered.time, bool(result.observed)
            hips = None
        # Unity axes, T-pose relative; one bundle
        positions, rotations = humanoid.local_pose(world, hips)
        self.sender.send(VmcFrame(time, seen, humanoid.names, positions, rotations))
        self._sent = key

    def close(self) -> None:
        self.sender.close()

    def _driven(self) -> tuple[int, CharacterBinding, JointTargets] | None:
        for ent, (binding, targets) in esper.get_components(CharacterBinding, JointTargets):
            if binding.tracker == self.tracker and binding.skeleton is not None:
                if targets.world_quats:
                    return ent, binding, targets
        return None

    def _humanoid(self, skeleton: object) -> UnityHumanoid:
        if self._rig is None or self._rig[0] is not skeleton:  # once per character
            self._rig = (skeleton, UnityHumanoid.from_skeleton(skeleton))
        return self._rig[1]

    def _mannequin(self) -> tuple[Retargeter, UnityHumanoid]:
        if self._own is None:
            actor, skeleton = load_character("mannequin")
            actor.cleanup()  # only its rest pose is needed
            solver = Retargeter(RestPose.from_skeleton(skeleton), RetargetConfig())
            self._own = (solver, UnityHumanoid.from_skeleton(skeleton))
        return self._own


def _solve(solver: Retargeter, filtered: FilteredPose) -> RetargetResult:
    """The retarget stage's solve for one frame (3D from world landmarks, 2D fallback)."""
    if filtered.pose is None:
        return solver.lost()
    keypoints = np.asarray(filtered.pose.keypoints)
    names = filtered.keypoint_names
    return solver.solve(names, keypoints[:, 2], filtered.pose.world, keypoints[:, :2])
