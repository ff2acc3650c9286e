"""The VMC stream stage: each new pose of the driven character, sent to a VMC receiver."""

import esper
import numpy as np

from posetrack.characters.loading import load_character
from posetrack.components.character import CharacterBinding, FilteredPose, JointTargets
from posetrack.motion.unity_bones import UnityHumanoid
from posetrack.motion.vmc import VmcFrame, VmcSender
from posetrack.retarget import RestPose, RetargetConfig, Retargeter, RetargetResult, quat
from posetrack.systems.retarget import RigParents


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
        self._rig: tuple[object, UnityHumanoid, RigParents, list[np.ndarray]] | None = None
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
            humanoid, parents, levels = self._humanoid(binding.skeleton)
            world = world_rotations(parents, targets.local_quats, levels)
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
                if targets.local_quats:
                    return ent, binding, targets
        return None

    def _humanoid(self, skeleton: object) -> tuple[UnityHumanoid, RigParents, list[np.ndarray]]:
        if self._rig is None or self._rig[0] is not skeleton:  # once per character
            humanoid = UnityHumanoid.from_skeleton(skeleton)
            parents = RigParents.of(skeleton, humanoid.bones)
            self._rig = (skeleton, humanoid, parents, depth_levels(parents.canon))
        return self._rig[1:]

    def _mannequin(self) -> tuple[Retargeter, UnityHumanoid]:
        if self._own is None:
            actor, skeleton = load_character("mannequin")
            actor.cleanup()  # only its rest pose is needed
            solver = Retargeter(RestPose.from_skeleton(skeleton), RetargetConfig())
            self._own = (solver, UnityHumanoid.from_skeleton(skeleton))
        return self._own


def world_rotations(
    parents: RigParents, local_quats: dict[str, np.ndarray], levels: list[np.ndarray] | None = None
) -> np.ndarray:
    """World rotations (n, 4) of `parents.bones` from the retarget stage's rotations relative
    to each joint's rig parent: the inverse of systems.retarget's rig_local_quats (the rig joint
    a bone hangs from stays at rest relative to the bone's canonical parent). `levels`:
    depth_levels(parents.canon), made here when not given."""
    n = len(parents.bones)
    local = np.array([local_quats[b] for b in parents.bones], dtype=np.float64)
    world = np.tile(quat.identity(), (n + 1, 1))  # row n: the root's "parent", identity
    for rows in depth_levels(parents.canon) if levels is None else levels:
        canon = parents.canon[rows]
        canon_now = world[canon]  # posed already: a level above
        change = quat.mul(canon_now, parents.rest_inverse[canon])
        above = quat.mul(change, parents.above[rows])
        parent_now = np.where(parents.has_above[rows, None], above, canon_now)
        world[rows] = quat.mul(parent_now, local[rows])
    return quat.normalize(world[:n])  # the rest quaternions are float32-exact, not unit


def depth_levels(canon: np.ndarray) -> list[np.ndarray]:
    """Rows grouped by depth below the root (canon: each row's parent row, n for none; parents
    first): each group can be posed at once after the groups before it."""
    n = len(canon)
    depth = np.zeros(n, dtype=np.int64)
    for i, parent in enumerate(canon):
        depth[i] = 0 if parent == n else depth[parent] + 1
    return [np.flatnonzero(depth == d) for d in range(int(depth.max(initial=0)) + 1)]


def _solve(solver: Retargeter, filtered: FilteredPose) -> RetargetResult:
    """The retarget stage's solve for one frame (3D from world landmarks, 2D fallback)."""
    if filtered.pose is None:
        return solver.lost()
    keypoints = np.asarray(filtered.pose.keypoints)
    names = filtered.keypoint_names
    return solver.solve(names, keypoints[:, 2], filtered.pose.world, keypoints[:, :2])
