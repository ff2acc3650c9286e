"""Closed loop, synthetic by design: pose a humanoid, read keypoints off it, retarget them onto
a humanoid with other proportions, other rest arms and other joint axes, and check that the
limbs point the same way.

Random anatomically valid poses (joint-limited rotations) of a source humanoid -> forward
kinematics -> keypoints: MediaPipe-style world landmarks (metres, hip-centred, x right, y down,
z away) with 5 mm noise, and a perspective projection (person ~430 px tall) with 1 px noise ->
Retargeter onto the target -> forward kinematics of the target -> per-limb angle between the
target's and the source's limb directions (3D; image-plane directions for the 2D solve).
"""

import numpy as np

from posetrack.retarget import RestPose, RetargetConfig, Retargeter, forward_kinematics, quat
from posetrack.retarget.axes import character_to_world
from posetrack.retarget.limbs import BONES, PARENTS

NOSE_PITCH_DEG = 10.0  # where the synthetic nose sits below the ear line (the solver's default)
LIMBS = (  # the compared limbs: (joint, child joint) of the rig
    ("leftUpperArm", "leftLowerArm"), ("leftLowerArm", "leftHand"),
    ("rightUpperArm", "rightLowerArm"), ("rightLowerArm", "rightHand"),
    ("leftUpperLeg", "leftLowerLeg"), ("leftLowerLeg", "leftFoot"),
    ("rightUpperLeg", "rightLowerLeg"), ("rightLowerLeg", "rightFoot"),
)  # fmt: skip
WORLD_NOISE_M = 0.005  # 5 mm per coordinate on the world landmarks
IMAGE_NOISE_PX = 1.0  # per coordinate on the image keypoints
FOCAL_PX, CAMERA_DISTANCE_M = 900.0, 3.5  # a 1.7 m person is ~440 px tall in the image


def humanoid(
    torso: float = 1.0, arm: float = 1.0, leg: float = 1.0, arm_drop_deg: float = 0.0,
    axes_seed: int | None = None,
) -> RestPose:  # fmt: skip
    """A simple humanoid rest pose (Z up, facing -Y): scale factors per part, arms lowered by
    `arm_drop_deg` from a T-pose, and random joint axes (rest world rotations) if seeded."""
    thigh, shin, ankle = 0.43 * leg, 0.42 * leg, 0.08
    hip_z = thigh + shin + ankle
    drop = np.radians(arm_drop_deg)
    p: dict[str, np.ndarray] = {
        "hips": [0, 0, hip_z], "spine": [0, 0, hip_z + 0.1 * torso],
        "chest": [0, 0, hip_z + 0.25 * torso], "neck": [0, 0, hip_z + 0.52 * torso],
        "head": [0, 0, hip_z + 0.62 * torso],
    }  # fmt: skip
    for sign, side in ((1, "left"), (-1, "right")):
        d = np.array([sign * np.cos(drop), 0.0, -np.sin(drop)])
        shoulder = np.array([sign * 0.18 * torso, 0.0, hip_z + 0.47 * torso])
        p[f"{side}UpperArm"] = shoulder
        p[f"{side}LowerArm"] = shoulder + 0.28 * arm * d
        p[f"{side}Hand"] = shoulder + 0.54 * arm * d
        p[f"{side}UpperLeg"] = [sign * 0.09 * torso, 0.0, hip_z - 0.05]
        p[f"{side}LowerLeg"] = [sign * 0.09 * torso, 0.0, hip_z - 0.05 - thigh]
        p[f"{side}Foot"] = [sign * 0.09 * torso, 0.0, ankle]
    rng = np.random.default_rng(axes_seed)
    rot = {
        b: quat.identity() if axes_seed is None else quat.normalize(rng.normal(size=4))
        for b in BONES
    }
    return RestPose(BONES, dict(PARENTS), {b: np.array(v, float) for b, v in p.items()}, rot)


def markers(rest: RestPose) -> dict[str, tuple[str, np.ndarray]]:
    """Keypoint -> (bone it rides on, its rest position), for the rest pose of humanoid()."""
    p = rest.rest_positions
    m = {}
    for sign, side in ((1, "left"), (-1, "right")):
        for kp, bone in (("shoulder", "UpperArm"), ("elbow", "LowerArm"), ("wrist", "Hand"),
                         ("hip", "UpperLeg"), ("knee", "LowerLeg"), ("ankle", "Foot")):  # fmt: skip
            m[f"{side}_{kp}"] = (f"{side}{bone}", p[f"{side}{bone}"])
        hand, fore = p[f"{side}Hand"], p[f"{side}Hand"] - p[f"{side}LowerArm"]
        tip = hand + 0.08 / np.linalg.norm(fore) * fore
        m[f"{side}_index"] = (f"{side}Hand", tip + [0, -0.03, 0])
        m[f"{side}_pinky"] = (f"{side}Hand", tip + [0, 0.03, 0])
        m[f"{side}_heel"] = (f"{side}Foot", p[f"{side}Foot"] + [0, 0.05, -0.06])
        m[f"{side}_foot_index"] = (f"{side}Foot", p[f"{side}Foot"] + [0, -0.15, -0.06])
        m[f"{side}_ear"] = ("head", p["head"] + [sign * 0.07, 0, 0.05])
    pitch = np.radians(NOSE_PITCH_DEG)
    m["nose"] = (
        "head",
        p["head"] + [0, 0, 0.05] + 0.1 * np.array([0, -np.cos(pitch), -np.sin(pitch)]),
    )
    return m


def random_pose(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Joint-limited random local rotations for humanoid() with identity rest axes (so each
    local rotation is about the character axes: X = the character's left, Y = back, Z = up)."""

    def about(axis: int, lo: float, hi: float) -> np.ndarray:
        return quat.from_axis_angle(np.eye(3)[axis], np.radians(rng.uniform(lo, hi)))

    def chain(*qs: np.ndarray) -> np.ndarray:
        out = quat.identity()
        for q in qs:
            out = quat.mul(out, q)
        return out

    X, Y, Z = 0, 1, 2
    pose = {
        "hips": chain(about(Z, -60, 60), about(X, -20, 20), about(Y, -10, 10)),
        "spine": chain(about(Z, -15, 15), about(X, -10, 25), about(Y, -10, 10)),
        "chest": chain(about(Z, -15, 15), about(X, -10, 20), about(Y, -10, 10)),
        "neck": chain(about(Z, -20, 20), about(X, -15, 20)),
        "head": chain(about(Z, -30, 30), about(X, -20, 20), about(Y, -10, 10)),
    }
    for s, side in ((1, "left"), (-1, "right")):  # the right side mirrors the left: Y, Z flip
        # shoulder: swing back/forward about Z, up/down about Y, twist about the arm (X)
        pose[f"{side}UpperArm"] = chain(
            about(Z, *sorted((s * -90, s * 30))), about(Y, *sorted((s * -70, s * 85))),
            about(X, -60, 60),
        )  # fmt: skip
        # elbow hinge: about rest_dir x forward (-Z on the left, +Z on the right), 0..140 deg
        pose[f"{side}LowerArm"] = quat.from_axis_angle([0, 0, -s], np.radians(rng.uniform(0, 140)))
        pose[f"{side}Hand"] = chain(about(X, -30, 30), about(Y, -30, 30), about(Z, -30, 30))
        # hip: flexion about X (negative = leg forward), abduction about Y, twist about Z
        pose[f"{side}UpperLeg"] = chain(
            about(X, -100, 20), about(Y, *sorted((s * -40, s * 10))), about(Z, -30, 30)
        )
        pose[f"{side}LowerLeg"] = about(X, 0, 130)  # knee hinge: shank swings back (+Y)
        pose[f"{side}Foot"] = chain(about(X, -25, 25), about(Z, -15, 15))
    return pose


def keypoints(rest: RestPose, pose: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Marker positions (character frame) of the posed source, and the joint positions."""
    pos, world = forward_kinematics(rest, pose)
    out = {}
    for kp, (bone, rest_p) in markers(rest).items():
        carry = quat.mul(world[bone], quat.inverse(rest.rest_world_quats[bone]))
        out[kp] = pos[bone] + quat.rotate(carry, rest_p - rest.rest_positions[bone])
    return out, pos


def project(points: np.ndarray) -> np.ndarray:
    """Perspective image (px, y down) of character-frame points, camera at -Y looking +Y."""
    depth = points[:, 1] + CAMERA_DISTANCE_M
    return np.column_stack(
        [320 + FOCAL_PX * points[:, 0] / depth, 240 - FOCAL_PX * (points[:, 2] - 1.0) / depth]
    )


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def closed_loop_errors(planar: bool, poses: int = 300, seed: int = 7) -> np.ndarray:
    """Per (pose, limb) angle errors in degrees of the synthetic closed loop."""
    rng = np.random.default_rng(seed)
    source = humanoid()
    target = humanoid(torso=1.25, arm=0.8, leg=1.15, arm_drop_deg=40.0, axes_seed=3)
    errors = []
    for _ in range(poses):
        solver = Retargeter(target, RetargetConfig(mirror=False))
        kps, src_pos = keypoints(source, random_pose(rng))
        names = tuple(kps)
        pts = np.array([kps[n] for n in names])
        conf = np.ones(len(names))
        if planar:
            img = project(pts)
            result = solver.solve(names, conf, image=img + rng.normal(0, IMAGE_NOISE_PX, img.shape))
        else:
            hip = 0.5 * (kps["left_hip"] + kps["right_hip"])
            world = character_to_world(pts - hip, mirror=False)
            noisy = world + rng.normal(0, WORLD_NOISE_M, world.shape)
            result = solver.solve(names, conf, world=noisy)
        tgt_pos, _ = forward_kinematics(target, result.local_quats, result.root_position)
        for a, b in LIMBS:
            want = src_pos[b] - src_pos[a]
            got = tgt_pos[b] - tgt_pos[a]
            if planar:  # compare image-plane directions: (x, -y) of the projection
                ia, ib = project(np.array([src_pos[a], src_pos[b]]))
                want = np.array([ib[0] - ia[0], ia[1] - ib[1]])
                got = got[[0, 2]]
            errors.append(_angle_deg(want, got))
    return np.array(errors)


def test_3d_world_landmarks_retarget_within_3_degrees() -> None:
    errors = closed_loop_errors(planar=False)
    median, p90 = np.median(errors), np.percentile(errors, 90)
    print(f"3D closed loop, {len(errors)} limbs: median {median:.2f} deg, p90 {p90:.2f} deg")
    assert median <= 3.0


def test_2d_image_keypoints_retarget_within_3_degrees() -> None:
    errors = closed_loop_errors(planar=True)
    median, p90 = np.median(errors), np.percentile(errors, 90)
    print(f"2D closed loop, {len(errors)} limbs: median {median:.2f} deg, p90 {p90:.2f} deg")
    assert median <= 3.0
