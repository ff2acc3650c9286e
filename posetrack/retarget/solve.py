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
from posetrack.retarget.gating import Gate, GateConfig
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
from posetrack.retarget.rest import RestPose, _parents_first, forward_kinematics

# Hinge twist fades in between these bend angles: below ~5 deg the bend plane of a nearly
# straight limb is keypoint noise, and by ~20 deg it is well defined (a 25 cm forearm bent 20
# deg puts the wrist ~8 cm off the line, many times the landmark noise).
_TWIST_FADE_DEG = (5.0, 20.0)
# A left-right line shorter than this fraction of the torso (a side view in 2D) has no reliable
# sign: the torso frame is then treated as unobserved and held.
_MIN_LATERAL = 0.05
# Off-plane play of a bent hinge: knees and elbows give ~5 deg of varus/valgus laxity; also
# several times the ~1 deg that 5 mm of landmark noise tilts a 40 cm shank.
_HINGE_PLAY_DEG = 5.0
_LEFT = np.array([1.0, 0.0, 0.0])  # the character's left at rest (it faces -Y, Z up)


@dataclass
class RetargetConfig:
    """Options of the solver; every field is a plain value a scene file can set."""

    mirror: bool = True  # webcam default: the avatar moves like the user's mirror image
    joint_limits: bool = True  # elbow/knee hinge range (3D solves only)
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


class Retargeter:
    """Solves one person onto one rig, frame after frame (it keeps hold/relax state)."""

    def __init__(self, rest: RestPose, config: RetargetConfig | None = None) -> None:
        rest.validate()
        self.rest = rest
        self.config = config or RetargetConfig()
        self._gate = Gate(self.config.gate)
        self._order = _parents_first(rest)
        self._rest_dir = {b: rest.rest_direction(b) for b in LIMB_BY_BONE}
        self._bend = {h.upper: self._rest_bend(h) for h in HINGES}
        up = rest.centre("leftUpperArm", "rightUpperArm") - rest.centre(
            "leftUpperLeg", "rightUpperLeg"
        )
        p = rest.rest_positions
        self._rest_hips_frame = quat.from_basis(p["leftUpperLeg"] - p["rightUpperLeg"], up)
        self._rest_chest_frame = quat.from_basis(p["leftUpperArm"] - p["rightUpperArm"], up)
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
        names = axes.mirror_names(tuple(names), mirror)
        ok = np.asarray(confidence) >= self.config.gate.threshold
        planar = world is None
        source = image if planar else world
        if source is None:
            return self.lost()
        conv = axes.image_to_character if planar else axes.world_to_character
        pts = {n: v for n, v, good in zip(names, conv(source, mirror), ok, strict=True) if good}
        img = None
        if image is not None:
            flat = axes.image_to_character(image, mirror)
            img = {n: v for n, v, good in zip(names, flat, ok, strict=True) if good}
        return self._solve(pts, planar, img)

    def lost(self) -> RetargetResult:
        """Targets for a frame with no person: every bone holds, then relaxes to rest."""
        return self._solve({}, False, None)

    def recenter(self) -> None:
        """Take the next frame's hip centre as the root-motion origin."""
        self._root_ref = None

    def _solve(self, pts: dict, planar: bool, img: dict | None) -> RetargetResult:
        rest, gate = self.rest, self._gate
        torso = self._torso_deltas(pts)
        delta: dict[str, np.ndarray] = {}
        world: dict[str, np.ndarray] = {}
        local: dict[str, np.ndarray] = {}
        observed: set[str] = set()
        for bone in self._order:
            parent = rest.parents[bone]
            dp = delta[parent] if parent else quat.identity()
            wp = world[parent] if parent else quat.identity()
            d = None
            if bone in ("hips", "spine", "chest") and torso is not None:
                share = {"hips": 0.0, "spine": self.config.spine_share, "chest": 1.0}[bone]
                d = quat.slerp(torso[0], torso[1], share)
            elif bone == "head":
                d = self._head_delta(pts, planar, dp)
            elif bone in LIMB_BY_BONE:
                d = self._aim(bone, pts, dp, planar)
            r = rest.rest_world_quats[bone]
            if d is not None:
                observed.add(bone)
                local[bone] = gate.observed(bone, quat.mul(quat.inverse(wp), quat.mul(d, r)))
            elif bone in BONES:
                local[bone] = gate.missing_rotation(bone, rest.rest_local(bone))
            else:  # a rig bone outside the canonical set (e.g. a clavicle): keep it at rest
                local[bone] = rest.rest_local(bone)
            world[bone] = quat.normalize(quat.mul(wp, local[bone]))
            delta[bone] = quat.mul(world[bone], quat.inverse(r))
        root = self._root_position(img)
        # every bone of the rig (rig-only ones, e.g. shoulders, at their rest local rotation):
        # the animate stage needs each joint's parent as it is posed now
        return RetargetResult(local, world, local["hips"], root, frozenset(observed))

    def _aim(self, bone: str, pts: dict, dp: np.ndarray, planar: bool) -> np.ndarray | None:
        """World delta that aims `bone` along its observed limb (None if not observed)."""
        d = _limb_vector(bone, pts)
        if d is None:
            return None
        hinge = HINGE_BY_LOWER.get(bone)
        if hinge is not None and self.config.joint_limits and not planar:
            d = self._limit(hinge, d, dp)
        swing = quat.from_two_vectors(quat.rotate(dp, self._rest_dir[bone]), d)
        delta = quat.mul(swing, dp)
        hinge = HINGE_BY_UPPER.get(bone)
        lower = None if hinge is None or planar else _limb_vector(hinge.lower, pts)
        if lower is not None:
            delta = self._twist_to_hinge(hinge, delta, d, lower)
        return delta

    def _rest_bend(self, hinge: Hinge) -> np.ndarray:
        """The hinge's bend direction at rest, perpendicular to the rest upper bone."""
        u = self._rest_dir[hinge.upper]
        b = np.asarray(hinge.bend) - (np.asarray(hinge.bend) @ u) * u
        return b / np.linalg.norm(b)

    def _twist_to_hinge(
        self, hinge: Hinge, delta: np.ndarray, upper: np.ndarray, lower: np.ndarray
    ) -> np.ndarray:
        """Twist the upper bone about itself so the hinge bends toward the lower bone."""
        u = upper / np.linalg.norm(upper)
        s = lower / np.linalg.norm(lower)
        weight = _hinge_weight(u, s)
        if weight == 0.0:
            return delta
        b0 = quat.rotate(delta, self._bend[hinge.upper])
        sp = s - (s @ u) * u
        tau = np.arctan2(np.cross(b0, sp) @ u, b0 @ sp)
        tau = np.clip(tau, -np.radians(hinge.max_twist_deg), np.radians(hinge.max_twist_deg))
        return quat.mul(quat.from_axis_angle(u, weight * tau), delta)

    def _limit(self, hinge: Hinge, s: np.ndarray, du: np.ndarray) -> np.ndarray:
        """Lower-bone direction with the hinge flexion clamped to its anatomical range."""
        u = quat.rotate(du, self._rest_dir[hinge.upper])
        b = quat.rotate(du, self._bend[hinge.upper])
        a = np.cross(u, b)
        s = s / np.linalg.norm(s)
        # out of the hinge plane: none once the bend is well defined (the twist put the lower
        # bone in the plane, unless the twist limit stopped it), beyond a little play; near
        # straight the plane is noise, so the off-plane part is kept
        bend = np.arccos(np.clip(s @ u, -1.0, 1.0))
        allow = bend * min(1.0, np.pi * (1.0 - _hinge_weight(u, s))) + np.radians(_HINGE_PLAY_DEG)
        psi = np.clip(np.arcsin(np.clip(s @ a, -1.0, 1.0)), -allow, allow)
        phi = np.arctan2(s @ b, s @ u)  # flexion in the hinge plane, negative = hyperextension
        lo, hi = -np.radians(hinge.hyperextension_deg), np.radians(hinge.max_flex_deg)
        if not lo <= phi <= hi:
            # outside the range: go to the nearer end, measured around the circle
            to_lo = (lo - phi) % (2 * np.pi)
            to_hi = (phi - hi) % (2 * np.pi)
            phi = lo if to_lo < to_hi else hi
        return np.cos(psi) * (np.cos(phi) * u + np.sin(phi) * b) + np.sin(psi) * a

    def _torso_deltas(self, pts: dict) -> tuple[np.ndarray, np.ndarray] | None:
        """World deltas of the hips frame and the shoulder frame, or None when unobserved."""
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
            frames.append(quat.mul(quat.from_basis(lateral, up), quat.inverse(rest_frame)))
        return frames[0], frames[1]

    def _head_delta(self, pts: dict, planar: bool, dp: np.ndarray) -> np.ndarray | None:
        """3D: head world delta from the ear line and the nose (rest head: faces -Y, Z up).
        2D: only the roll shows in the image plane: the neck's delta swung onto the ear line."""
        if not all(k in pts for k in ("left_ear", "right_ear", "nose")):
            return None
        lateral = pts["left_ear"] - pts["right_ear"]
        if np.linalg.norm(lateral) == 0.0:
            return None
        if planar:
            return quat.mul(quat.from_two_vectors(quat.rotate(dp, _LEFT), lateral), dp)
        back = 0.5 * (pts["left_ear"] + pts["right_ear"]) - pts["nose"]
        back = back - (back @ lateral) / (lateral @ lateral) * lateral
        pitch = quat.from_axis_angle(lateral, -np.radians(self.config.nose_pitch_deg))
        up = np.cross(lateral, quat.rotate(pitch, back))
        try:
            return quat.from_basis(lateral, up)  # the rest head frame is the identity
        except ValueError:
            return None

    def _root_position(self, img: dict | None) -> np.ndarray:
        """Hips position: at rest, or moved by the hip centre in torso lengths (root motion)."""
        rest_hips = self.rest.rest_positions["hips"]
        if not self.config.root_motion:
            return rest_hips.copy()
        keys = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
        if img is None or not all(k in img for k in keys):
            return self._gate.missing_position("root", rest_hips)
        hip = 0.5 * (img["left_hip"] + img["right_hip"])
        torso = float(np.linalg.norm(0.5 * (img["left_shoulder"] + img["right_shoulder"]) - hip))
        if self._root_ref is None and torso > 0:
            self._root_ref = (hip, torso)  # the person's own size sets the unit, once
        if self._root_ref is None:
            return self._gate.missing_position("root", rest_hips)
        ref_hip, ref_torso = self._root_ref
        scale = self.rest.torso_length() / ref_torso * self.config.root_motion_scale
        return self._gate.observed("root", rest_hips + (hip - ref_hip) * scale)


def _hinge_weight(u: np.ndarray, s: np.ndarray) -> float:
    """0 for a straight limb (bend plane undefined) rising smoothly to 1 once it is defined."""
    cos = (u @ s) / (np.linalg.norm(u) * np.linalg.norm(s))
    bend = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    lo, hi = _TWIST_FADE_DEG
    x = float(np.clip((bend - lo) / (hi - lo), 0.0, 1.0))
    return x * x * (3 - 2 * x)  # smoothstep: no kink where the twist starts


def _limb_vector(bone: str, pts: dict) -> np.ndarray | None:
    """Observed vector of a limb bone, or None when any of its keypoints is missing."""
    limb = LIMB_BY_BONE[bone]
    if not all(k in pts for k in limb.start + limb.end):
        return None
    v = np.mean([pts[k] for k in limb.end], axis=0) - np.mean([pts[k] for k in limb.start], axis=0)
    return v if np.linalg.norm(v) > 0.0 else None


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
