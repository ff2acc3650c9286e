"""The vectorised retarget and animate stages give the per-bone code's answers.

The reference is a frozen copy of the per-bone code as it stood before vectorisation (commit
3496122: posetrack/retarget/quat.py, gating.py, solve.py, rest.py's rest_local / rest_direction
/ parents-first order, systems/retarget.py's rig_local_quats and systems/animate.py's per-joint
slerp), kept here and nowhere else. Only the keypoint tables (limbs.py) and the axis
conversions (axes.py), which vectorisation did not touch, are imported.

Inputs: real frames (the Sports2D clip tracked by PoseTrackingSystem, raw and smoothed) with
seeded confidence dropouts and runs of lost frames, so every bone holds and relaxes; in mirror
and plain mode, 3D and 2D, with and without joint limits and root motion; and synthetic
closed-loop poses on a rig with random joint axes and other proportions. Every frame's local
and world rotations and root position must agree within 1e-9 (as quaternion components: the
same sign too), the observed sets exactly.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import esper
import numpy as np
import pytest
from panda3d.core import LQuaternionf
from test_retarget_closed_loop import humanoid, keypoints, random_pose

from posetrack.characters import build_mannequin, skeleton_from_actor
from posetrack.components import PoseEstimate, PoseResult
from posetrack.components.character import CharacterBinding, FilteredPose, JointTargets
from posetrack.retarget import GateConfig, RestPose, RetargetConfig, Retargeter
from posetrack.retarget import axes as ref_axes
from posetrack.retarget.limbs import (
    BONES,
    FORWARD,
    HINGE_BY_LOWER,
    HINGE_BY_UPPER,
    HINGES,
    LIMB_BY_BONE,
    LIMBS,
    UP,
)
from posetrack.systems.animate import AnimateSystem
from posetrack.systems.filter import FilterSystem
from posetrack.systems.pose_tracking import PoseTrackingSystem
from posetrack.systems.retarget import RetargetSystem, rig_local_quats

TOLERANCE = 1e-9  # the brief: the same rotations within 1e-9
CLIP_FRAMES = 90  # 3 s of the Sports2D clip: walking, turning, the jump's start
DROP_RATE = 0.15  # fraction of keypoints whose confidence a frame loses (seeded)

# ---------------------------------------------------------------------------------------------
# The reference: the per-bone code before vectorisation (verbatim but for names and docstrings)
# ---------------------------------------------------------------------------------------------


def _q_identity() -> np.ndarray:
    return np.array([1.0, 0.0, 0.0, 0.0])


def _q_normalize(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q)
    return -q if q[0] < 0 else q


def _q_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ]
    )


def _q_inverse(q: np.ndarray) -> np.ndarray:
    return np.array([q[0], -q[1], -q[2], -q[3]])


def _q_to_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _q_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.float64) @ _q_to_matrix(q).T


def _q_from_axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    return np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis])


def _q_unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < 1e-12:
        raise ValueError("zero-length vector has no direction")
    return np.asarray(v, dtype=np.float64) / n


def _q_from_two_vectors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64) / np.linalg.norm(a)
    b = np.asarray(b, dtype=np.float64) / np.linalg.norm(b)
    d = float(a @ b)
    if d < -1.0 + 1e-9:
        helper = np.eye(3)[int(np.argmin(np.abs(a)))]
        return np.concatenate([[0.0], _q_unit(np.cross(a, helper))])
    return _q_normalize(np.concatenate([[1.0 + d], np.cross(a, b)]))


def _q_slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = float(a @ b)
    if d < 0.0:
        b, d = -b, -d
    if d > 1.0 - 1e-9:
        return _q_normalize(a + t * (b - a))
    theta = np.arccos(min(d, 1.0))
    s = np.sin(theta)
    return _q_normalize((np.sin((1 - t) * theta) * a + np.sin(t * theta) * b) / s)


def _q_from_matrix(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    return _q_normalize(np.array(q))


def _q_from_basis(lateral: np.ndarray, up: np.ndarray) -> np.ndarray:
    z = _q_unit(up)
    x = np.asarray(lateral, dtype=np.float64) - (lateral @ z) * z
    x = _q_unit(x)
    return _q_from_matrix(np.column_stack([x, np.cross(z, x), z]))


oq = SimpleNamespace(
    identity=_q_identity, normalize=_q_normalize, mul=_q_mul, inverse=_q_inverse,
    rotate=_q_rotate, from_axis_angle=_q_from_axis_angle, from_two_vectors=_q_from_two_vectors,
    slerp=_q_slerp, from_basis=_q_from_basis,
)  # fmt: skip


@dataclass
class _RefHeld:
    value: np.ndarray
    lost_frames: int = 0


@dataclass
class _RefGate:
    config: GateConfig = field(default_factory=GateConfig)
    _held: dict[str, _RefHeld] = field(default_factory=dict)

    def observed(self, key: str, value: np.ndarray) -> np.ndarray:
        self._held[key] = _RefHeld(np.array(value, dtype=np.float64))
        return value

    def missing_rotation(self, key: str, rest: np.ndarray) -> np.ndarray:
        t = self._relax_fraction(key)
        return rest if t is None else oq.slerp(self._held[key].value, rest, t)

    def missing_position(self, key: str, rest: np.ndarray) -> np.ndarray:
        t = self._relax_fraction(key)
        return rest if t is None else (1 - t) * self._held[key].value + t * rest

    def _relax_fraction(self, key: str) -> float | None:
        held = self._held.get(key)
        if held is None:
            return None
        held.lost_frames += 1
        over = held.lost_frames - self.config.hold_frames
        if over <= 0:
            return 0.0
        return min(1.0, over / max(1, self.config.relax_frames))


def _ref_rest_local(rest: RestPose, bone: str) -> np.ndarray:
    parent = rest.parents.get(bone)
    r = rest.rest_world_quats[bone]
    return r if parent is None else oq.mul(oq.inverse(rest.rest_world_quats[parent]), r)


def _ref_rest_direction(rest: RestPose, bone: str) -> np.ndarray:
    limb = next((lb for lb in LIMBS if lb.bone == bone), None)
    p = rest.rest_positions
    if limb.rest_child is not None:
        d = p[limb.rest_child] - p[bone]
    elif limb.rest_tip == "forward":
        d = FORWARD
    elif limb.rest_tip == "up":
        d = UP
    else:
        d = p[bone] - p[rest.parents[bone]]
    return d / np.linalg.norm(d)


def _ref_parents_first(rest: RestPose) -> list[str]:
    order: list[str] = []
    pending = list(rest.bones)
    while pending:
        for bone in list(pending):
            parent = rest.parents.get(bone)
            if parent is None or parent in order:
                order.append(bone)
                pending.remove(bone)
    return order


_TWIST_FADE_DEG = (5.0, 20.0)
_MIN_LATERAL = 0.05
_HINGE_PLAY_DEG = 5.0
_LEFT = np.array([1.0, 0.0, 0.0])


class ReferenceRetargeter:
    """The per-bone Retargeter before vectorisation."""

    def __init__(self, rest: RestPose, config: RetargetConfig) -> None:
        self.rest = rest
        self.config = config
        self._gate = _RefGate(self.config.gate)
        self._order = _ref_parents_first(rest)
        self._rest_dir = {b: _ref_rest_direction(rest, b) for b in LIMB_BY_BONE}
        self._bend = {h.upper: self._rest_bend(h) for h in HINGES}
        up = rest.centre("leftUpperArm", "rightUpperArm") - rest.centre(
            "leftUpperLeg", "rightUpperLeg"
        )
        p = rest.rest_positions
        self._rest_hips_frame = oq.from_basis(p["leftUpperLeg"] - p["rightUpperLeg"], up)
        self._rest_chest_frame = oq.from_basis(p["leftUpperArm"] - p["rightUpperArm"], up)
        self._root_ref: tuple[np.ndarray, float] | None = None

    def solve(self, names, confidence, world=None, image=None) -> SimpleNamespace:
        mirror = self.config.mirror
        names = ref_axes.mirror_names(tuple(names), mirror)
        ok = np.asarray(confidence) >= self.config.gate.threshold
        planar = world is None
        source = image if planar else world
        if source is None:
            return self.lost()
        conv = ref_axes.image_to_character if planar else ref_axes.world_to_character
        pts = {n: v for n, v, good in zip(names, conv(source, mirror), ok, strict=True) if good}
        img = None
        if image is not None:
            flat = ref_axes.image_to_character(image, mirror)
            img = {n: v for n, v, good in zip(names, flat, ok, strict=True) if good}
        return self._solve(pts, planar, img)

    def lost(self) -> SimpleNamespace:
        return self._solve({}, False, None)

    def _solve(self, pts: dict, planar: bool, img: dict | None) -> SimpleNamespace:
        rest, gate = self.rest, self._gate
        torso = self._torso_deltas(pts)
        delta: dict[str, np.ndarray] = {}
        world: dict[str, np.ndarray] = {}
        local: dict[str, np.ndarray] = {}
        observed: set[str] = set()
        for bone in self._order:
            parent = rest.parents[bone]
            dp = delta[parent] if parent else oq.identity()
            wp = world[parent] if parent else oq.identity()
            d = None
            if bone in ("hips", "spine", "chest") and torso is not None:
                share = {"hips": 0.0, "spine": self.config.spine_share, "chest": 1.0}[bone]
                d = oq.slerp(torso[0], torso[1], share)
            elif bone == "head":
                d = self._head_delta(pts, planar, dp)
            elif bone in LIMB_BY_BONE:
                d = self._aim(bone, pts, dp, planar)
            r = rest.rest_world_quats[bone]
            if d is not None:
                observed.add(bone)
                local[bone] = gate.observed(bone, oq.mul(oq.inverse(wp), oq.mul(d, r)))
            elif bone in BONES:
                local[bone] = gate.missing_rotation(bone, _ref_rest_local(rest, bone))
            else:
                local[bone] = _ref_rest_local(rest, bone)
            world[bone] = oq.normalize(oq.mul(wp, local[bone]))
            delta[bone] = oq.mul(world[bone], oq.inverse(r))
        root = self._root_position(img)
        return SimpleNamespace(
            local_quats=local,
            world_quats=world,
            root_quat=local["hips"],
            root_position=root,
            observed=frozenset(observed),
        )

    def _aim(self, bone: str, pts: dict, dp: np.ndarray, planar: bool) -> np.ndarray | None:
        d = _ref_limb_vector(bone, pts)
        if d is None:
            return None
        hinge = HINGE_BY_LOWER.get(bone)
        if hinge is not None and self.config.joint_limits and not planar:
            d = self._limit(hinge, d, dp)
        swing = oq.from_two_vectors(oq.rotate(dp, self._rest_dir[bone]), d)
        delta = oq.mul(swing, dp)
        hinge = HINGE_BY_UPPER.get(bone)
        lower = None if hinge is None or planar else _ref_limb_vector(hinge.lower, pts)
        if lower is not None:
            delta = self._twist_to_hinge(hinge, delta, d, lower)
        return delta

    def _rest_bend(self, hinge: Any) -> np.ndarray:
        u = self._rest_dir[hinge.upper]
        b = np.asarray(hinge.bend) - (np.asarray(hinge.bend) @ u) * u
        return b / np.linalg.norm(b)

    def _twist_to_hinge(self, hinge, delta, upper, lower) -> np.ndarray:
        u = upper / np.linalg.norm(upper)
        s = lower / np.linalg.norm(lower)
        weight = _ref_hinge_weight(u, s)
        if weight == 0.0:
            return delta
        b0 = oq.rotate(delta, self._bend[hinge.upper])
        sp = s - (s @ u) * u
        tau = np.arctan2(np.cross(b0, sp) @ u, b0 @ sp)
        tau = np.clip(tau, -np.radians(hinge.max_twist_deg), np.radians(hinge.max_twist_deg))
        return oq.mul(oq.from_axis_angle(u, weight * tau), delta)

    def _limit(self, hinge, s: np.ndarray, du: np.ndarray) -> np.ndarray:
        u = oq.rotate(du, self._rest_dir[hinge.upper])
        b = oq.rotate(du, self._bend[hinge.upper])
        a = np.cross(u, b)
        s = s / np.linalg.norm(s)
        bend = np.arccos(np.clip(s @ u, -1.0, 1.0))
        allow = bend * min(1.0, np.pi * (1.0 - _ref_hinge_weight(u, s))) + np.radians(
            _HINGE_PLAY_DEG
        )
        psi = np.clip(np.arcsin(np.clip(s @ a, -1.0, 1.0)), -allow, allow)
        phi = np.arctan2(s @ b, s @ u)
        lo, hi = -np.radians(hinge.hyperextension_deg), np.radians(hinge.max_flex_deg)
        if not lo <= phi <= hi:
            to_lo = (lo - phi) % (2 * np.pi)
            to_hi = (phi - hi) % (2 * np.pi)
            phi = lo if to_lo < to_hi else hi
        return np.cos(psi) * (np.cos(phi) * u + np.sin(phi) * b) + np.sin(psi) * a

    def _torso_deltas(self, pts: dict):
        if not all(k in pts for k in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")):
            return None
        up = 0.5 * (
            pts["left_shoulder"] + pts["right_shoulder"] - pts["left_hip"] - pts["right_hip"]
        )
        size = np.linalg.norm(up)
        if size == 0.0:
            return None
        frames = []
        for left, right, rest_frame in (
            ("left_hip", "right_hip", self._rest_hips_frame),
            ("left_shoulder", "right_shoulder", self._rest_chest_frame),
        ):
            lateral = pts[left] - pts[right]
            if np.linalg.norm(lateral - (lateral @ up) / size**2 * up) < _MIN_LATERAL * size:
                return None
            frames.append(oq.mul(oq.from_basis(lateral, up), oq.inverse(rest_frame)))
        return frames[0], frames[1]

    def _head_delta(self, pts: dict, planar: bool, dp: np.ndarray) -> np.ndarray | None:
        if not all(k in pts for k in ("left_ear", "right_ear", "nose")):
            return None
        lateral = pts["left_ear"] - pts["right_ear"]
        if np.linalg.norm(lateral) == 0.0:
            return None
        if planar:
            return oq.mul(oq.from_two_vectors(oq.rotate(dp, _LEFT), lateral), dp)
        back = 0.5 * (pts["left_ear"] + pts["right_ear"]) - pts["nose"]
        back = back - (back @ lateral) / (lateral @ lateral) * lateral
        pitch = oq.from_axis_angle(lateral, -np.radians(self.config.nose_pitch_deg))
        up = np.cross(lateral, oq.rotate(pitch, back))
        try:
            return oq.from_basis(lateral, up)
        except ValueError:
            return None

    def _root_position(self, img: dict | None) -> np.ndarray:
        rest_hips = self.rest.rest_positions["hips"]
        if not self.config.root_motion:
            return rest_hips.copy()
        keys = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
        if img is None or not all(k in img for k in keys):
            return self._gate.missing_position("root", rest_hips)
        hip = 0.5 * (img["left_hip"] + img["right_hip"])
        torso = float(np.linalg.norm(0.5 * (img["left_shoulder"] + img["right_shoulder"]) - hip))
        if self._root_ref is None and torso > 0:
            self._root_ref = (hip, torso)
        if self._root_ref is None:
            return self._gate.missing_position("root", rest_hips)
        ref_hip, ref_torso = self._root_ref
        scale = self.rest.torso_length() / ref_torso * self.config.root_motion_scale
        return self._gate.observed("root", rest_hips + (hip - ref_hip) * scale)


def _ref_hinge_weight(u: np.ndarray, s: np.ndarray) -> float:
    cos = (u @ s) / (np.linalg.norm(u) * np.linalg.norm(s))
    bend = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    lo, hi = _TWIST_FADE_DEG
    x = float(np.clip((bend - lo) / (hi - lo), 0.0, 1.0))
    return x * x * (3 - 2 * x)


def _ref_limb_vector(bone: str, pts: dict) -> np.ndarray | None:
    limb = LIMB_BY_BONE[bone]
    if not all(k in pts for k in limb.start + limb.end):
        return None
    v = np.mean([pts[k] for k in limb.end], axis=0) - np.mean([pts[k] for k in limb.start], axis=0)
    return v if np.linalg.norm(v) > 0.0 else None


def _ref_rig_local_quats(skeleton: Any, result: Any) -> dict[str, np.ndarray]:
    rest = skeleton.rest_world_quats
    above = getattr(skeleton, "rig_parent_quats", {})
    out: dict[str, np.ndarray] = {}
    for bone, world in result.world_quats.items():
        canon = skeleton.parents.get(bone)
        if bone not in above:
            parent_now = result.world_quats[canon] if canon else oq.identity()
        else:
            change = oq.identity()
            if canon is not None:
                change = oq.mul(result.world_quats[canon], oq.inverse(rest[canon]))
            parent_now = oq.mul(change, above[bone])
        out[bone] = oq.normalize(oq.mul(oq.inverse(parent_now), world))
    return out


def _ref_animate(joints: dict, local_quats: dict[str, np.ndarray], step: float) -> None:
    """The animate stage's per-joint step before vectorisation (an actor, no root motion)."""
    for bone, target in local_quats.items():
        node = joints.get(bone)
        if node is None:
            continue
        q = node.get_quat()
        now = np.array([q.get_r(), q.get_i(), q.get_j(), q.get_k()])
        node.set_quat(LQuaternionf(*oq.slerp(now, target, step)))


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_frames(sports2d_clip: Any) -> list[tuple[tuple[str, ...], PoseEstimate | None]]:
    """(keypoint names, pose) per frame of the clip's start: raw, then smoothed."""
    esper.switch_world("test-retarget-vectorised")
    tracker = PoseTrackingSystem(str(sports2d_clip))
    try:
        results: list[PoseResult] = list(tracker.results(max_frames=CLIP_FRAMES))
    finally:
        tracker.close()
    entity = esper.create_entity()
    smooth = FilterSystem()
    smoothed = []
    for result in results:
        esper.add_component(entity, result)
        smooth.process()
        smoothed.append(esper.component_for_entity(entity, FilteredPose).pose)
    esper.switch_world("default")
    esper.delete_world("test-retarget-vectorised")
    names = results[0].keypoint_names
    raw = [r.poses[0] if r.poses else None for r in results]
    assert sum(p is not None for p in raw) > CLIP_FRAMES - 5, "the clip lost its person"
    return [(names, p) for p in raw + smoothed]


def _dropouts(
    frames: list, seed: int, lost_runs: bool = True
) -> Iterator[tuple[tuple[str, ...], PoseEstimate | None]]:
    """The frames with seeded confidence dropouts (single keypoints and whole limbs for a
    while) and, every 40 frames, a run of lost frames long enough to relax every bone."""
    rng = np.random.default_rng(seed)
    hidden_until: dict[int, int] = {}
    for i, (names, pose) in enumerate(frames):
        if lost_runs and i % 40 >= 40 - 12:
            yield names, None
            continue
        if pose is None:
            yield names, None
            continue
        kps = np.array(pose.keypoints, dtype=np.float64)
        drop = rng.random(len(names)) < DROP_RATE
        if rng.random() < 0.2:  # hide a keypoint for up to 30 frames: hold, then relax
            hidden_until[int(rng.integers(len(names)))] = i + int(rng.integers(3, 30))
        for k, until in hidden_until.items():
            drop[k] |= i < until
        kps[drop, 2] = 0.0
        yield names, PoseEstimate(kps, pose.score, pose.world)


def _assert_same(ref: Any, new: Any, context: str) -> None:
    assert new.observed == ref.observed, context
    assert set(new.local_quats) == set(ref.local_quats), context
    for bone, want in ref.local_quats.items():
        got = new.local_quats[bone]
        assert np.abs(got - want).max() <= TOLERANCE, f"{context}: local {bone} {got} {want}"
        got, want = new.world_quats[bone], ref.world_quats[bone]
        assert np.abs(got - want).max() <= TOLERANCE, f"{context}: world {bone} {got} {want}"
    assert np.abs(new.root_quat - ref.root_quat).max() <= TOLERANCE, context
    assert np.abs(new.root_position - ref.root_position).max() <= TOLERANCE, context


def _run_both(rest: RestPose, config: RetargetConfig, frames: Any, planar: bool) -> int:
    ref, new = ReferenceRetargeter(rest, config), Retargeter(rest, config)
    checked = 0
    for i, (names, pose) in enumerate(frames):
        if pose is None:
            want, got = ref.lost(), new.lost()
        else:
            kps = np.asarray(pose.keypoints)
            world = None if planar else pose.world
            want = ref.solve(names, kps[:, 2], world, kps[:, :2])
            got = new.solve(names, kps[:, 2], world, kps[:, :2])
        _assert_same(want, got, f"frame {i}")
        checked += 1
    return checked


@pytest.fixture(scope="module")
def mannequin_rest() -> tuple[Any, RestPose]:
    actor = build_mannequin()
    skeleton = skeleton_from_actor(actor)
    actor.cleanup()
    return skeleton, RestPose.from_skeleton(skeleton)


CONFIGS = {
    "mirror": RetargetConfig(),
    "plain": RetargetConfig(mirror=False),
    "no-limits": RetargetConfig(joint_limits=False),
    "root-motion": RetargetConfig(root_motion=True, root_motion_scale=1.5, spine_share=0.3),
    "quick-gate": RetargetConfig(gate=GateConfig(threshold=0.7, hold_frames=2, relax_frames=3)),
}


@pytest.mark.parametrize("planar", [False, True], ids=["3d", "2d"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_real_frames_match_the_per_bone_solver(
    clip_frames: list, mannequin_rest: tuple, name: str, planar: bool
) -> None:
    _, rest = mannequin_rest
    config = CONFIGS[name]
    assert _run_both(rest, config, clip_frames, planar) == len(clip_frames)
    frames = list(_dropouts(clip_frames, seed=len(name) + planar))
    assert _run_both(rest, config, frames, planar) == len(clip_frames)


def test_synthetic_poses_on_other_rigs_match_the_per_bone_solver() -> None:
    """Random joint-limited poses (elbows and knees past their limits too), noisy, onto rigs
    with random joint axes and other proportions; every fourth frame drops keypoints."""
    rng = np.random.default_rng(11)
    source = humanoid()
    for axes_seed in (3, 4):
        target = humanoid(torso=1.25, arm=0.8, leg=1.15, arm_drop_deg=40.0, axes_seed=axes_seed)
        for planar in (False, True):
            config = RetargetConfig(mirror=bool(axes_seed % 2), root_motion=planar)
            ref, new = ReferenceRetargeter(target, config), Retargeter(target, config)
            for i in range(120):
                pose = random_pose(rng)
                if i % 7 == 0:  # past the hinge limits: the clamp's far side
                    pose["leftLowerArm"] = ref_from_axis_angle_deg([0, 0, -1], 175)
                    pose["rightLowerLeg"] = ref_from_axis_angle_deg([1, 0, 0], -60)
                kps, _ = keypoints(source, pose)
                names = tuple(kps)
                pts = np.array([kps[n] for n in names])
                hip = 0.5 * (kps["left_hip"] + kps["right_hip"])
                world = ref_axes.character_to_world(pts - hip, mirror=False)
                world = world + rng.normal(0, 0.005, world.shape)
                image = np.column_stack([320 + 300 * pts[:, 0], 400 - 300 * pts[:, 2]])
                conf = np.ones(len(names))
                if i % 4 == 3:
                    conf[rng.random(len(names)) < 0.3] = 0.0
                args = (names, conf, None if planar else world, image)
                _assert_same(ref.solve(*args), new.solve(*args), f"rig {axes_seed} pose {i}")


def ref_from_axis_angle_deg(axis: list[float], degrees: float) -> np.ndarray:
    return oq.from_axis_angle(np.array(axis, dtype=np.float64), np.radians(degrees))


@pytest.fixture
def world() -> Iterator[None]:
    esper.switch_world("test-retarget-vectorised-stages")
    yield
    esper.switch_world("default")
    esper.delete_world("test-retarget-vectorised-stages")


def test_stages_match_the_per_bone_stages(clip_frames: list, world: None) -> None:
    """RetargetSystem's rig-local targets and AnimateSystem's eased joints, frame after frame,
    against rig_local_quats and the per-joint slerp of before on a second mannequin."""
    actor, twin = build_mannequin(), build_mannequin()
    skeleton = skeleton_from_actor(actor)
    tracker = esper.create_entity()
    config = RetargetConfig(bone_depth=False)  # the solver on the world landmarks as given
    character = esper.create_entity(CharacterBinding(tracker, config, actor, skeleton))
    retarget, animate = RetargetSystem(), AnimateSystem(clock=lambda: 1 / 60)
    ref = ReferenceRetargeter(RestPose.from_skeleton(skeleton), config)
    twin_joints = {b: twin.controlJoint(None, "modelRoot", j) for b, j in skeleton.joint_of.items()}
    step = 1.0 - np.exp(-(1 / 60) / CharacterBinding(0, config).response_s)
    worst = 0.0
    for i, (names, pose) in enumerate(_dropouts(clip_frames, seed=5)):
        esper.add_component(tracker, FilteredPose(i, i / 30, names, pose))
        retarget.process()
        targets = esper.component_for_entity(character, JointTargets)
        if pose is None:
            want = ref.lost()
        else:
            kps = np.asarray(pose.keypoints)
            want = ref.solve(names, kps[:, 2], pose.world, kps[:, :2])
        want_local = _ref_rig_local_quats(skeleton, want)
        assert set(targets.local_quats) == set(want_local)
        for bone, q in want_local.items():
            assert _rotation_gap(targets.local_quats[bone], q) <= TOLERANCE, (i, bone)
        assert targets.observed == want.observed
        for _ in range(2):  # two render frames per tracked frame
            animate.process()
            _ref_animate(twin_joints, want_local, step)
        for bone, node in animate._joints[character].items():
            got, expect = node.get_quat(), twin_joints[bone].get_quat()
            worst = max(worst, max(abs(got[k] - expect[k]) for k in range(4)))
    # Panda3D stores joint rotations as float32: the same float64 slerp rounds to the same
    # float32 but for the rare last-bit tie, one float32 step (6e-8) at most
    assert worst <= 6e-8, worst
    actor.cleanup()
    twin.cleanup()


def test_rig_local_quats_match_the_per_bone_version(mannequin_rest: tuple) -> None:
    skeleton, rest = mannequin_rest
    rng = np.random.default_rng(3)
    for _ in range(20):
        worlds = {b: oq.normalize(rng.normal(size=4)) for b in skeleton.bones}
        result = SimpleNamespace(world_quats=worlds)
        want = _ref_rig_local_quats(skeleton, result)
        got = rig_local_quats(skeleton, result)
        for bone, q in want.items():
            assert _rotation_gap(got[bone], q) <= TOLERANCE, bone


def _rotation_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest component difference between two rotations, q and -q being one rotation.

    rig_local_quats normalises to w >= 0; a joint that sits half a turn from its rig parent
    (the mannequin's thighs under its hips) has w ~ 1e-17, whose sign is rounding noise in
    the old code and the new alike, so the sign is not compared there.
    """
    return float(min(np.abs(a - b).max(), np.abs(a + b).max()))
