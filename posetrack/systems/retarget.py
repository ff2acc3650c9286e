"""The retarget stage: the filtered pose -> joint targets of each bound character."""

import time
from dataclasses import dataclass

import esper
import numpy as np

from posetrack.components import CameraFrame
from posetrack.components.character import CharacterBinding, FilteredPose, JointTargets
from posetrack.errors import PosetrackError
from posetrack.retarget import RestPose, Retargeter, RetargetResult, quat
from posetrack.retarget.depth import BoneDepth
from posetrack.retarget.sprite import SpriteSolver


class RetargetSystem(esper.Processor):
    """Turns each character's source pose into joint targets, once per new tracked frame.

    Reads CharacterBinding (on the character entity) and FilteredPose (on the binding's
    tracker entity). Writes JointTargets on the character entity: for an actor, rotations
    relative to each joint's own rig parent (3D solve from the world landmarks, 2D from the
    image keypoints when the model has none); for a sprite, image-plane angles. A frame with
    nobody in view lets every bone hold, then relax to rest (the solver's gating). With
    RetargetConfig.bone_depth the world landmarks' limbs are first re-solved from the 2D
    keypoints and bone lengths (retarget/depth.py; the source size from the tracker's
    CameraFrame).
    """

    def __init__(self, budget_ms: float | None = None) -> None:
        # `budget_ms`: in a game, stop solving characters once a frame has spent this long
        # (the others keep easing toward their last targets and are solved first next frame);
        # None: every character every call (the command line, where a line is a frame)
        self.budget_ms = budget_ms
        self._next = 0  # where the next call starts: no character waits behind the others
        self._solvers: dict[int, Retargeter | SpriteSolver] = {}
        # bone lengths are the person's, not the character's: one BoneDepth per tracker, and
        # its re-solved landmarks shared by every character that tracker drives that frame
        # (measured: 4 characters solved it 4 times, +0.6 ms a pose update)
        self._depth: dict[int, BoneDepth] = {}
        self._solved: dict[int, tuple[int, np.ndarray]] = {}  # tracker -> (frame, landmarks)
        self._rig_parents: dict[int, RigParents] = {}

    def process(self) -> None:
        bindings = list(esper.get_component(CharacterBinding))
        start = self._next % len(bindings) if bindings else 0
        began, solved = time.perf_counter(), 0
        for turn, (ent, binding) in enumerate(bindings[start:] + bindings[:start]):
            filtered = esper.try_component(binding.tracker, FilteredPose)
            done = esper.try_component(ent, JointTargets)
            # nothing new from the tracker
            if filtered is None or (done is not None and done.frame == filtered.frame):
                continue
            # the frame's share is spent: the rest next frame, this one first
            spent_ms = (time.perf_counter() - began) * 1000.0
            if self.budget_ms is not None and solved and spent_ms >= self.budget_ms:
                self._next = (start + turn) % len(bindings)
                break
            solved += 1
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
                    self._depth.pop(binding.tracker, None)  # who comes next has their own bones
                else:
                    keypoints = np.asarray(pose.keypoints)
                    world = pose.world
                    if binding.config.bone_depth and world is not None:
                        world = self._bone_depth(binding.tracker, filtered, keypoints, world)
                    result = solver.solve(
                        filtered.keypoint_names, keypoints[:, 2], world, keypoints[:, :2]
                    )
                parents = self._rig_parents.get(ent)
                if parents is None or parents.bones != tuple(result.world_quats):
                    parents = RigParents.of(binding.skeleton, tuple(result.world_quats))
                    self._rig_parents[ent] = parents
                targets = JointTargets(
                    filtered.frame,
                    filtered.time,
                    rig_local_quats(binding.skeleton, result, parents),
                    result.root_position,
                    observed=result.observed,
                    world_quats=result.world_quats,
                )
            esper.add_component(ent, targets)
        for ent in [e for e in self._solvers if not esper.entity_exists(e)]:
            del self._solvers[ent]
            self._rig_parents.pop(ent, None)
        for tracker in [t for t in self._depth if not esper.entity_exists(t)]:
            del self._depth[tracker]
            self._solved.pop(tracker, None)

    def _bone_depth(
        self, tracker: int, filtered: FilteredPose, keypoints: np.ndarray, world: np.ndarray
    ) -> np.ndarray:
        """The tracker's landmarks with limbs re-solved from 2D and bone lengths, once a frame."""
        solved = self._solved.get(tracker)
        if solved is None or solved[0] != filtered.frame:
            depth = self._depth.get(tracker)
            if depth is None or depth.names != tuple(filtered.keypoint_names):
                depth = self._depth[tracker] = BoneDepth(tuple(filtered.keypoint_names))
            solved = (filtered.frame, depth(keypoints, world, _source_size(tracker)))
            self._solved[tracker] = solved
        return solved[1].copy()  # each character's solver gets its own


def _source_size(tracker: int) -> tuple[int, int] | None:
    """(width, height) of the tracker's source frames, None when unknown."""
    frame = esper.try_component(tracker, CameraFrame)
    if frame is None:
        return None
    return int(frame.pixels.shape[1]), int(frame.pixels.shape[0])


def _make_solver(binding: CharacterBinding) -> Retargeter | SpriteSolver:
    if (binding.actor is None) == (binding.sprite is None):
        raise PosetrackError("a CharacterBinding drives exactly one of an actor and a sprite")
    if binding.sprite is not None:
        return SpriteSolver(binding.config)
    if binding.skeleton is None:
        raise PosetrackError("an actor binding needs its skeleton (skeleton_from_actor(actor))")
    return Retargeter(RestPose.from_skeleton(binding.skeleton), binding.config)


@dataclass(frozen=True)
class RigParents:
    """What each bone's controlJoint rotation is relative to, as arrays (one row per bone).

    A bone hangs from a rig joint (its rest rotation `above`, where the skeleton knows it) that
    stays at rest relative to the bone's canonical parent (row `canon`; n: none).
    """

    bones: tuple[str, ...]  # bone of each row
    canon: np.ndarray  # (n,) row of each bone's canonical parent, n for none
    rest_inverse: np.ndarray  # (n + 1, 4) inverse rest world rotation; identity at row n
    above: np.ndarray  # (n, 4) rest world rotation of the rig joint each bone hangs from
    has_above: np.ndarray  # (n,) whether the skeleton knows that joint

    @classmethod
    def of(cls, skeleton: object, bones: tuple[str, ...]) -> "RigParents":
        """The tables of `skeleton` for `bones` (the solver's world_quats, in its order)."""
        row = {b: i for i, b in enumerate(bones)}
        n = len(bones)
        above = getattr(skeleton, "rig_parent_quats", {})
        canon = np.array([row[p] if (p := skeleton.parents.get(b)) else n for b in bones])
        rest = [skeleton.rest_world_quats[b] for b in bones] + [quat.identity()]
        return cls(
            bones,
            canon,
            quat.inverse(np.array(rest, dtype=np.float64)),
            np.array([above.get(b, quat.identity()) for b in bones], dtype=np.float64),
            np.array([b in above for b in bones]),
        )


def rig_local_quats(
    skeleton: object, result: RetargetResult, parents: RigParents | None = None
) -> dict[str, np.ndarray]:
    """Each bone's rotation relative to the rig joint it hangs from directly, as posed now.

    The solver's local rotations are relative to the nearest canonical ancestor; a rig may put
    other joints in between (a root, twist or clavicle joint the presets do not map). Those
    stay at rest relative to that ancestor, so the direct parent's pose now is the ancestor's
    change since rest applied to the parent's rest orientation. `parents`: the skeleton's
    RigParents for these bones, made here when not given.
    """
    bones = tuple(result.world_quats)
    if parents is None:
        parents = RigParents.of(skeleton, bones)
    world = np.array([*result.world_quats.values(), quat.identity()], dtype=np.float64)
    canon_now = world[parents.canon]
    change = quat.mul(canon_now, parents.rest_inverse[parents.canon])  # canonical parent
    parent_now = np.where(parents.has_above[:, None], quat.mul(change, parents.above), canon_now)
    local = quat.normalize(quat.mul(quat.inverse(parent_now), world[:-1]))
    return dict(zip(bones, local, strict=True))
