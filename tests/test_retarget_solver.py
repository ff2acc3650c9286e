"""Unit checks of the retargeting pieces: quaternion helpers, torso frame, mirror mode,
confidence gating, hinge limits. Synthetic on purpose: each isolates one function."""

import numpy as np
from panda3d.core import LQuaternionf, LVector3f
from test_retarget_closed_loop import humanoid, keypoints

from posetrack.retarget import RestPose, RetargetConfig, Retargeter, forward_kinematics, quat
from posetrack.retarget.axes import character_to_world
from posetrack.retarget.gating import GateConfig


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def _world(rest: RestPose, pose: dict) -> tuple[tuple[str, ...], np.ndarray]:
    """MediaPipe-style world landmarks (hip-centred, y down) of `rest` posed by `pose`."""
    kps, _ = keypoints(rest, pose)
    names = tuple(kps)
    pts = np.array([kps[n] for n in names])
    hip = 0.5 * (kps["left_hip"] + kps["right_hip"])
    return names, character_to_world(pts - hip, mirror=False)


def _posed(rest: RestPose, result) -> dict[str, np.ndarray]:
    return forward_kinematics(rest, result.local_quats, result.root_position)[0]


def test_swing_turns_one_vector_onto_another() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b = rng.normal(size=3), rng.normal(size=3)
        q = quat.from_two_vectors(a, b)
        got = quat.rotate(q, a / np.linalg.norm(a))
        np.testing.assert_allclose(got, b / np.linalg.norm(b), atol=1e-12)
        # shortest arc: the axis is perpendicular to both
        assert abs(q[1:] @ a) < 1e-9 and abs(q[1:] @ b) < 1e-9
    x = np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(quat.rotate(quat.from_two_vectors(x, -x), x), -x, atol=1e-12)
    np.testing.assert_allclose(quat.from_two_vectors(x, 2 * x), quat.identity(), atol=1e-12)


def test_slerp_endpoints_and_midpoint() -> None:
    a = quat.from_axis_angle([0, 0, 1], 0.2)
    b = quat.from_axis_angle([0, 0, 1], 1.4)
    np.testing.assert_allclose(quat.slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(quat.slerp(a, b, 1.0), b, atol=1e-12)
    np.testing.assert_allclose(quat.slerp(a, b, 0.5), quat.from_axis_angle([0, 0, 1], 0.8))
    # q and -q are one rotation: slerp takes the short way either way
    np.testing.assert_allclose(quat.slerp(a, -b, 0.5), quat.from_axis_angle([0, 0, 1], 0.8))


def test_matrix_round_trip_and_panda3d_agree() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        q, r = quat.normalize(rng.normal(size=4)), quat.normalize(rng.normal(size=4))
        np.testing.assert_allclose(quat.from_matrix(quat.to_matrix(q)), q, atol=1e-12)
        v = rng.normal(size=3)
        pq, pr = LQuaternionf(*q), LQuaternionf(*r)
        np.testing.assert_allclose(quat.rotate(q, v), pq.xform(LVector3f(*v)), atol=1e-5)
        # Panda composes the other way round: its r * q is our mul(q, r)
        np.testing.assert_allclose(
            quat.rotate(quat.mul(q, r), v), (pr * pq).xform(LVector3f(*v)), atol=1e-5
        )


def test_torso_frame_is_orthonormal_and_follows_the_body() -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        m = quat.to_matrix(quat.from_basis(rng.normal(size=3), rng.normal(size=3)))
        np.testing.assert_allclose(m.T @ m, np.eye(3), atol=1e-12)
        assert np.isclose(np.linalg.det(m), 1.0)
    # a body turned 30 deg about the vertical: the solved hips turn the same 30 deg
    rest = humanoid()
    turn = quat.from_axis_angle([0, 0, 1], np.radians(30))
    names, world = _world(rest, {"hips": turn})
    result = Retargeter(rest, RetargetConfig(mirror=False)).solve(names, np.ones(len(names)), world)
    assert quat.angle(quat.mul(quat.inverse(turn), result.root_quat)) < 1e-6


def test_mirror_swaps_sides() -> None:
    rest = humanoid()
    up_left = {"leftUpperArm": quat.from_axis_angle([0, 1, 0], np.radians(-80))}  # left arm up
    names, world = _world(rest, up_left)
    conf = np.ones(len(names))
    plain = _posed(rest, Retargeter(rest, RetargetConfig(mirror=False)).solve(names, conf, world))
    mirror = _posed(rest, Retargeter(rest, RetargetConfig(mirror=True)).solve(names, conf, world))
    # unmirrored: the character raises its own left hand (at +X, the viewer's right)
    assert plain["leftHand"][2] > plain["leftUpperArm"][2] + 0.4 and plain["leftHand"][0] > 0
    assert plain["rightHand"][2] < plain["rightUpperArm"][2] + 0.05
    # mirrored: its right hand, on the viewer's left (-X), like a mirror image
    assert mirror["rightHand"][2] > mirror["rightUpperArm"][2] + 0.4 and mirror["rightHand"][0] < 0
    assert mirror["leftHand"][2] < mirror["leftUpperArm"][2] + 0.05


def test_gating_holds_then_relaxes_to_rest() -> None:
    rest = humanoid()
    gate = GateConfig(threshold=0.5, hold_frames=3, relax_frames=4)
    solver = Retargeter(rest, RetargetConfig(mirror=False, gate=gate))
    names, world = _world(rest, {"leftUpperArm": quat.from_axis_angle([0, 1, 0], -1.2)})
    conf = np.ones(len(names))
    seen = solver.solve(names, conf, world).local_quats["leftUpperArm"]
    conf[names.index("left_elbow")] = 0.1  # the upper arm loses its end point
    rest_local = rest.rest_local("leftUpperArm")
    dist = []
    for _ in range(gate.hold_frames + gate.relax_frames + 2):
        got = solver.solve(names, conf, world).local_quats["leftUpperArm"]
        dist.append(quat.angle(quat.mul(quat.inverse(rest_local), got)))
    held = quat.angle(quat.mul(quat.inverse(rest_local), seen))
    np.testing.assert_allclose(dist[: gate.hold_frames], held, atol=1e-9)  # holds
    relaxing = dist[gate.hold_frames - 1 : gate.hold_frames + gate.relax_frames]
    assert all(b < a for a, b in zip(relaxing, relaxing[1:], strict=False))  # eases back
    np.testing.assert_allclose(dist[-2:], 0.0, atol=1e-9)  # at rest
    # the whole body lost: every bone ends at rest, the root too
    for _ in range(gate.hold_frames + gate.relax_frames):
        lost = solver.lost()
    for bone, q in lost.local_quats.items():
        assert quat.angle(quat.mul(quat.inverse(rest.rest_local(bone)), q)) < 1e-9, bone


def test_elbow_and_knee_limits_clamp() -> None:
    rest = humanoid()
    solver = Retargeter(rest, RetargetConfig(mirror=False))
    # elbow folded 175 deg: clamped to the 150 deg maximum flexion
    names, world = _world(rest, {"leftLowerArm": quat.from_axis_angle([0, 0, -1], np.radians(175))})
    p = _posed(rest, solver.solve(names, np.ones(len(names)), world))
    upper, fore = p["leftLowerArm"] - p["leftUpperArm"], p["leftHand"] - p["leftLowerArm"]
    assert abs(_angle_deg(upper, fore) - 150.0) < 0.5
    # knee bent 45 deg forward (hyperextension): the thigh may twist only so far, the rest is
    # clamped: the shank ends within the 10 deg hyperextension plus the 5 deg off-plane play
    names, world = _world(rest, {"leftLowerLeg": quat.from_axis_angle([1, 0, 0], np.radians(-45))})
    p = _posed(rest, solver.solve(names, np.ones(len(names)), world))
    thigh, shank = p["leftLowerLeg"] - p["leftUpperLeg"], p["leftFoot"] - p["leftLowerLeg"]
    assert _angle_deg(thigh, shank) <= 10.0 + 5.0 + 0.5
    # the same within range passes untouched: a knee bent 60 deg back
    names, world = _world(rest, {"leftLowerLeg": quat.from_axis_angle([1, 0, 0], np.radians(60))})
    p = _posed(rest, solver.solve(names, np.ones(len(names)), world))
    thigh, shank = p["leftLowerLeg"] - p["leftUpperLeg"], p["leftFoot"] - p["leftLowerLeg"]
    assert abs(_angle_deg(thigh, shank) - 60.0) < 1e-6
