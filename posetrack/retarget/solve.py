"""The retargeting solver: tracked keypoints -> local joint rotations of any humanoid rig.

Per bone the rig gives a rest direction (joint -> child joint) and a rest world rotation R. Each
frame the solver finds the bone's world delta D (a rotation in character space) that turns the
rest direction onto the observed limb direction, starting from the parent's delta (so the
twist follows the parent: the shortest swing); the bone's world rotation is W = D R and the
target handed to the joint is its local rotation W_parent^-1 W. Only world directions are
aimed at: no per-rig heading/pitch/roll offsets, every rig keeps its own joint axes.

Torso: the hips and the shoulder girdle each get a frame from their left-right line and the
hip-centre -> shoulder-centre "up" (up wins); the chest takes the shoulder frame, the spine
the rotation halfway between hips and chest, so the torso twist is shared. Elbows and knees are
hinges: the upper bone is twisted about its own axis so the hinge plane holds the lower bone,
and the flexion is clamped between slight hyperextension and full flexion.

3D from world landmarks; 2D (image-plane directions only, the sprite and the fallback) from
image keypoints, without hinge twist or limits (any image-plane angle is a possible projection).
"""

from dataclasses import dataclass, field

import numpy as np

from posetrack.retarget import axes, quat
from posetrack.retarget.gating import BoneGate, Gate, GateConfig
from posetrack.retarget.hinges import Hinges, limit, twist_to_hinge
from posetrack.retarget.limbs import (
    BONES,
    HINGE_BY_LOWER,
    HINGE_BY_UPPER,
    HINGES,
    KEYPOINT_JOINTS,
    LIMB_BY_BONE,
    Hinge,
    mirror_name,
)
from posetrack.retarget.observe import (
    HEAD_KEYPOINTS,
    Keypoints,
    Observation,
    keypoint_table,
    observe,
    padded,
)
from posetrack.retarget.rest import RestPose, forward_kinematics

_LEFT = np.array([1.0, 0.0, 0.0])  # the character's left at rest (it faces -Y, Z up)
_TORSO_BONES = ("hips", "spine", "chest")  # framed by the hip and shoulder lines
# The head in 2D is aimed like a limb: its left (+X at rest) along the ear line.
_HEAD_SOURCE = (("right_ear",), ("left_ear",), HEAD_KEYPOINTS)


@dataclass
class RetargetConfig:
    """Options of the solver; every field is a plain value a scene file can set."""

    mirror: bool = True  # webcam default: the avatar moves like the user's mirror image
    joint_limits: bool = True  # elbow/knee hinge range (3D solves only)
    # limb directions from the 2D keypoints, depth from bone lengths (retarget/depth.py)
    bone_depth: bool = True
    root_motion: bool = False  # move the root with the person's hip centre in the image
    root_motion_scale: float = 1.0  # extra gain on top of the character/person size ratio
    spine_share: float = 0.5  # fraction of the hips -> chest rotation taken by the spine
    # the nose sits ~10 deg below the ear line seen from the torso: median over the 221 frames
    # of MediaPipe world landmarks on the Sports2D clip; removing it makes a level gaze level
    nose_pitch_deg: float = 10.0
    gate: GateConfig = field(default_factory=GateConfig)


@dataclass
class RetargetResult:
    """Targets for one frame, in the character's model space."""

    local_quats: dict[str, np.ndarray]  # per rig bone, relative to its parent bone's frame
    world_quats: dict[str, np.ndarray]  # per rig bone, the solved world (model) rotation
    root_quat: np.ndarray  # hips world rotation (= local_quats["hips"])
    root_position: np.ndarray  # hips world position
    observed: frozenset[str]  # bones aimed from this frame's keypoints (others held/relaxed)


@dataclass(frozen=True)
class _Aim:
    """Bones aimed along observed vectors in one step (limbs; the head in 2D)."""

    sources: np.ndarray  # (m,) observed-vector row of each bone
    rest_dir: np.ndarray  # (m, 3) the direction each bone turns onto its observed vector
    limits: Hinges | None  # hinge lower bones: flexion clamped before aiming (3D)
    twists: Hinges | None  # hinge upper bones: twisted toward the lower bone (3D)


@dataclass(frozen=True)
class _Step:
    """Bones solved together on the way down the rig: each needs only earlier steps."""

    rows: np.ndarray  # the bones' rows (RestPose.arrays order)
    parents: np.ndarray  # their parents' rows
    aim: _Aim | None  # None: each bone takes its delta (torso, 3D head) or its gated rotation


class Retargeter:
    """Solves one person onto one rig, frame after frame (it keeps hold/relax state).

    The rig is solved in a few batched steps (see `_schedule`): bones whose rotation needs
    no parent's (the torso, the 3D head, held or relaxing bones' local rotations) are placed
    parents first, and every limb bone with the same number of limb bones above it is aimed
    at once, so a rig costs about a dozen groups of whole-array operations, not one per bone.
    """

    def __init__(self, rest: RestPose, config: RetargetConfig | None = None) -> None:
        rest.validate()
        self.rest = rest
        self.config = config or RetargetConfig()
        rig = rest.arrays
        self._canonical = np.array([b in BONES for b in rig.order])
        self._bone_gate = BoneGate.empty(self.config.gate, len(rig.order))
        self._gate = Gate(self.config.gate)  # the root position
        self._rest_dir = {b: rest.rest_direction(b) for b in LIMB_BY_BONE}
        self._bend = {h.upper: self._rest_bend(h) for h in HINGES}
        # observed-vector sources: every limb bone, then the 2D head
        self._source_bones = tuple(LIMB_BY_BONE) + ("head",)
        self._sources = [(lb.start, lb.end, lb.start + lb.end) for lb in LIMB_BY_BONE.values()]
        self._sources.append(_HEAD_SOURCE)
        self._steps = {planar: self._schedule(planar) for planar in (False, True)}
        self._torso_rows = np.array([rig.row[b] for b in _TORSO_BONES])
        self._head_row = rig.row["head"]
        up = rest.centre("leftUpperArm", "rightUpperArm") - rest.centre(
            "leftUpperLeg", "rightUpperLeg"
        )
        p = rest.rest_positions
        lines = np.array(
            [p["leftUpperLeg"] - p["rightUpperLeg"], p["leftUpperArm"] - p["rightUpperArm"]]
        )
        self._rest_torso_inverse = quat.inverse(quat.from_basis(lines, up))  # hips, chest
        self._keypoint_tables: dict[tuple[tuple[str, ...], bool], Keypoints] = {}
        self._root_ref: tuple[np.ndarray, float] | None = None

    def solve(
        self,
        names: tuple[str, ...],
        confidence: np.ndarray,
        world: np.ndarray | None = None,
        image: np.ndarray | None = None,
    ) -> RetargetResult:
        """Targets from one pose: `world` (K, 3) MediaPipe world landmarks drive a 3D solve;
        without them `image` (K, >=2) pixels drive a 2D one; `image` also drives root motion."""
        mirror = self.config.mirror
        planar = world is None
        source = image if planar else world
        if source is None:
            return self.lost()
        table = self._keypoint_tables.get((tuple(names), mirror))
        if table is None:
            table = keypoint_table(tuple(names), mirror, self._sources)
            self._keypoint_tables[(tuple(names), mirror)] = table
        ok = np.concatenate([np.asarray(confidence) >= self.config.gate.threshold, [False, True]])
        conv = axes.image_to_character if planar else axes.world_to_character
        points = padded(conv(source, mirror), ok)
        seen = observe(table, points, ok, planar, self._rest_torso_inverse,
                       self.config.nose_pitch_deg)  # fmt: skip
        img = None if image is None else padded(axes.image_to_character(image, mirror), ok)
        return self._solve(seen, self._root_position(table, img, ok))

    def lost(self) -> RetargetResult:
        """Targets for a frame with no person: every bone holds, then relaxes to rest."""
        return self._solve(None, self._root_position(None, None, None))

    def recenter(self) -> None:
        """Take the next frame's hip centre as the root-motion origin."""
        self._root_ref = None

    def _solve(self, seen: Observation | None, root: np.ndarray) -> RetargetResult:
        """Every bone's targets: observed bones aimed, the others held or relaxing (gate)."""
        rig = self.rest.arrays
        n = len(rig.order)
        observed = np.zeros(n, dtype=bool)
        delta = np.tile(quat.identity(), (n, 1))  # world delta (rotation since rest) per bone
        if seen is not None:
            if seen.torso is not None:
                shares = [0.0, self.config.spine_share, 1.0]  # hips, spine, chest
                delta[self._torso_rows] = quat.slerp(seen.torso[0], seen.torso[1], shares)
                observed[self._torso_rows] = True
            if seen.head is not None:
                delta[self._head_row] = seen.head
                observed[self._head_row] = True
            for step in self._steps[seen.planar]:
                if step.aim is not None:
                    observed[step.rows] = seen.seen[step.aim.sources]
        # unobserved bones: held or relaxing (canonical ones), at rest (the rig's others)
        fixed = self._bone_gate.missing(self._canonical & ~observed, rig.rest_local)
        world = self._walk(seen, observed, delta, fixed)
        rest = rig.rest_world[:n]
        posed = quat.mul(quat.inverse(world[rig.parent]), quat.mul(delta, rest))
        local = np.where(observed[:, None], posed, fixed)
        self._bone_gate.observed(observed, local)
        # every bone of the rig (rig-only ones, e.g. shoulders, at their rest local rotation):
        # the animate stage needs each joint's parent as it is posed now
        local_quats = dict(zip(rig.order, local, strict=True))
        return RetargetResult(
            local_quats,
            dict(zip(rig.order, world[:n], strict=True)),
            local_quats["hips"],
            root,
            frozenset(rig.order[i] for i in np.flatnonzero(observed)),
        )

    def _walk(
        self,
        seen: Observation | None,
        observed: np.ndarray,
        delta: np.ndarray,
        fixed: np.ndarray,
    ) -> np.ndarray:
        """World rotations (n + 1, 4), step by step down the rig; fills in the aimed bones'
        deltas. An observed bone's world rotation is its delta applied to its rest rotation,
        an unobserved one's its parent's world rotation times its fixed local rotation."""
        rig = self.rest.arrays
        world = np.empty((len(rig.order) + 1, 4))
        world[-1] = quat.identity()
        for step in self._steps[seen.planar if seen is not None else False]:
            parent_world = world[step.parents]
            hit = observed[step.rows]
            if step.aim is not None and hit.any():
                parent_delta = quat.mul(parent_world, rig.rest_world_inverse[step.parents])
                delta[step.rows] = self._aim(step.aim, parent_delta, seen)
            hit = hit[:, None]
            first = np.where(hit, delta[step.rows], parent_world)
            then = np.where(hit, rig.rest_world[step.rows], fixed[step.rows])
            world[step.rows] = quat.normalize(quat.mul(first, then))
        return world

    def _aim(self, aim: _Aim, parent_delta: np.ndarray, seen: Observation) -> np.ndarray:
        """World deltas that aim each bone along its observed vector, starting from its
        parent's delta (the shortest swing), with the hinge rules in 3D."""
        turn = quat.to_matrix(parent_delta)  # the parent's delta as a matrix, used thrice
        v = seen.vectors[aim.sources]
        h = aim.limits
        if h is not None and self.config.joint_limits and not seen.planar:
            v[h.at] = limit(h, v[h.at], turn[h.at])
        start = (turn @ aim.rest_dir[..., None])[..., 0]
        delta = quat.mul(quat.from_two_vectors(start, v), parent_delta)
        h = aim.twists
        if h is not None and not seen.planar:
            lower = seen.vectors[h.lower_source]
            weight = np.where(seen.seen[h.lower_source], 1.0, 0.0)  # the lower bone observed
            delta[h.at] = twist_to_hinge(h, delta[h.at], v[h.at], lower, weight)
        return delta

    def _schedule(self, planar: bool) -> list[_Step]:
        """The order of batched steps for one solve mode.

        A bone's round is the number of aimed bones above it. Round by round: first the bones
        that are not aimed, one step per depth (each needs its parent's world rotation only),
        then all the round's aimed bones in one step (their parents are done: an earlier
        round's aimed bones or this round's others).
        """
        rig = self.rest.arrays
        n = len(rig.order)
        aimed = [b in LIMB_BY_BONE or (planar and b == "head") for b in rig.order]
        rounds = np.zeros(n, dtype=np.int64)
        for i, p in enumerate(rig.parent):
            rounds[i] = 0 if p == n else rounds[p] + aimed[p]
        steps = []
        for r in range(int(rounds.max()) + 1):
            placed = [i for i in range(n) if rounds[i] == r and not aimed[i]]
            for depth in sorted({int(rig.depth[i]) for i in placed}):
                rows = np.array([i for i in placed if rig.depth[i] == depth])
                steps.append(_Step(rows, rig.parent[rows], None))
            rows = np.array([i for i in range(n) if rounds[i] == r and aimed[i]], dtype=np.int64)
            if rows.size:
                steps.append(_Step(rows, rig.parent[rows], self._aim_table(rows, planar)))
        return steps

    def _aim_table(self, rows: np.ndarray, planar: bool) -> _Aim:
        """The per-bone tables of one aiming step."""
        bones = [self.rest.arrays.order[i] for i in rows]
        sources = np.array([self._source_bones.index(b) for b in bones])
        rest_dir = np.array([_LEFT if b == "head" else self._rest_dir[b] for b in bones])
        limits = twists = None
        if not planar:
            limits = self._hinges(bones, HINGE_BY_LOWER)
            twists = self._hinges(bones, HINGE_BY_UPPER)
        return _Aim(sources, rest_dir, limits, twists)

    def _hinges(self, bones: list[str], by_bone: dict[str, Hinge]) -> Hinges | None:
        """Hinge tables for those of `bones` that `by_bone` names (None if none)."""
        at = [i for i, b in enumerate(bones) if b in by_bone]
        if not at:
            return None
        hinges = [by_bone[bones[i]] for i in at]
        return Hinges(
            np.array(at),
            np.array([self._rest_dir[h.upper] for h in hinges]),
            np.array([self._bend[h.upper] for h in hinges]),
            np.radians([(-h.hyperextension_deg, h.max_flex_deg) for h in hinges]),
            np.radians([h.max_twist_deg for h in hinges]),
            np.array([self._source_bones.index(h.lower) for h in hinges]),
        )

    def _rest_bend(self, hinge: Hinge) -> np.ndarray:
        """The hinge's bend direction at rest, perpendicular to the rest upper bone."""
        u = self._rest_dir[hinge.upper]
        b = np.asarray(hinge.bend) - (np.asarray(hinge.bend) @ u) * u
        return b / np.linalg.norm(b)

    def _root_position(
        self, table: Keypoints | None, img: np.ndarray | None, ok: np.ndarray | None
    ) -> np.ndarray:
        """Hips position: at rest, or moved by the hip centre in torso lengths (root motion)."""
        rest_hips = self.rest.rest_positions["hips"]
        if not self.config.root_motion:
            return rest_hips.copy()
        if img is None or table is None or not ok[table.torso].all():
            return self._gate.missing_position("root", rest_hips)
        left_hip, right_hip, left_shoulder, right_shoulder = img[table.torso]
        hip = 0.5 * (left_hip + right_hip)
        torso = float(quat.norm(0.5 * (left_shoulder + right_shoulder) - hip))
        if self._root_ref is None and torso > 0:
            self._root_ref = (hip, torso)  # the person's own size sets the unit, once
        if self._root_ref is None:
            return self._gate.missing_position("root", rest_hips)
        ref_hip, ref_torso = self._root_ref
        scale = self.rest.torso_length() / ref_torso * self.config.root_motion_scale
        return self._gate.observed("root", rest_hips + (hip - ref_hip) * scale)


def character_keypoints(
    rest: RestPose, result: RetargetResult, mirror: bool
) -> dict[str, np.ndarray]:
    """Where the posed character's joints stand for each tracked keypoint, hip-centred, in
    MediaPipe world axes (x right, y down, z away), names as the tracker labels them -- so a
    character limb direction compares directly with the tracked world landmarks."""
    positions, _ = forward_kinematics(rest, result.local_quats, result.root_position)
    hip = 0.5 * (positions["leftUpperLeg"] + positions["rightUpperLeg"])
    names = list(KEYPOINT_JOINTS)
    pts = np.array([positions[KEYPOINT_JOINTS[n]] - hip for n in names])
    out = axes.character_to_world(pts, mirror)
    return {(mirror_name(n) if mirror else n): p for n, p in zip(names, out, strict=True)}
