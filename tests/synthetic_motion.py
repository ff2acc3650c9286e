"""Known 3D motion for the mannequin: joint angles written as functions of time.

Every joint gets a rotation (3x3, numpy) about its own rest origin, expressed in the figure's
rest axes (X: the figure's left, Y: its back, Z: up; it faces -Y), composed down the chain:
the world rotation of a joint is its parent's world rotation times its own. Forward kinematics
(`posed_joints`) then gives every joint's position, the ground truth the tracker is compared
with. Independent of posetrack's retarget code on purpose: the truth must not share its maths
with what it checks.

The sequence (`motion`), looping every CYCLE_S seconds:
- walking in place all along (hip flexion +-25 deg, knee up to 50 deg on the swing leg, arms
  swinging against the legs, elbows bent 15-35 deg);
- 0.8-2.5 s: the left arm raised sideways to 70 deg above level (the right stays down): the
  unambiguous left/right frames;
- 3.0-4.4 s: the right arm raised forward and up, the elbow bent;
- heading: facing the camera, then turning to profile (90 deg, 2.6-3.4 s: the camera sees the
  figure's right side), to the back (180 deg, 4.6-5.4 s) and on round to the front
  (6.4-7.6 s).
"""

from collections.abc import Mapping

import numpy as np

CYCLE_S = 8.0  # one full sequence; longer runs repeat it
STEP_S = 1.1  # one walking cycle (two steps): an unhurried pace
# (start, end, from, to) of each turn, seconds and degrees of heading (0: facing the camera)
TURNS = ((2.6, 3.4, 0.0, 90.0), (4.6, 5.4, 90.0, 180.0), (6.4, 7.6, 180.0, 360.0))
LEFT_RAISE = (0.8, 2.5)  # seconds: the left arm up sideways
RIGHT_FORWARD = (3.0, 4.4)  # seconds: the right arm up in front


def rotation(axis: tuple[float, float, float] | np.ndarray, degrees: float) -> np.ndarray:
    """Rotation matrix about `axis` (any length) by `degrees` (right-hand rule)."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    t = np.radians(degrees)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


def _ease(t: float, start: float, end: float) -> float:
    """0 before `start`, 1 after `end`, a smooth (cosine) ramp between."""
    if t <= start:
        return 0.0
    if t >= end:
        return 1.0
    return 0.5 - 0.5 * np.cos(np.pi * (t - start) / (end - start))


def _window(t: float, span: tuple[float, float], ramp: float = 0.35) -> float:
    """1 inside `span`, ramping in and out over `ramp` seconds at its ends."""
    return _ease(t, span[0], span[0] + ramp) * (1.0 - _ease(t, span[1] - ramp, span[1]))


def heading_deg(t: float) -> float:
    """Where the figure faces, degrees about Z (0: the camera at -Y; 90: its right side seen)."""
    t = t % CYCLE_S
    heading = 0.0
    for start, end, a, b in TURNS:
        if t >= start:
            heading = a + (b - a) * _ease(t, start, end)
    return heading % 360.0


def motion(t: float, rest: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Local rotations (rest axes) of the mannequin's joints at time `t` seconds."""
    phase = 2 * np.pi * (t % CYCLE_S) / STEP_S
    x, y, z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
    out = {"hips": rotation(z, heading_deg(t)), "chest": rotation(z, 6 * np.sin(phase))}
    left_up = _window(t % CYCLE_S, LEFT_RAISE)
    right_fwd = _window(t % CYCLE_S, RIGHT_FORWARD)
    for side, sign in (("l", 1.0), ("r", -1.0)):
        swing = sign * np.sin(phase)  # +1: this leg forward
        # hip flexion about X: negative angles bring the leg forward (-Y)
        out[f"upper_leg_{side}"] = rotation(x, -25.0 * swing)
        # the knee bends (shank back, +X rotation) while the leg swings through
        out[f"lower_leg_{side}"] = rotation(x, 50.0 * max(0.0, np.sin(phase + sign * 1.2)) ** 2)
        arm = rest[f"lower_arm_{side}"] - rest[f"upper_arm_{side}"]
        elbow_axis = np.cross(arm, (0.0, -1.0, 0.0))  # flexion brings the forearm forward
        raise_side = left_up if side == "l" else 0.0
        raise_fwd = right_fwd if side == "r" else 0.0
        # the arm swings against the leg on its side; raises replace the swing
        calm = 1.0 - max(raise_side, raise_fwd)
        upper = rotation(x, 20.0 * swing * calm)
        # sideways: about Y, the left arm up with a negative angle (rest arm 50 deg below level)
        upper = rotation(y, -sign * 120.0 * raise_side) @ upper
        upper = rotation(x, -140.0 * raise_fwd) @ upper  # forward: from 50 deg down to ~90 up
        out[f"upper_arm_{side}"] = upper
        bend = 25.0 + 10.0 * swing * calm + 50.0 * raise_fwd - 20.0 * raise_side
        out[f"lower_arm_{side}"] = rotation(elbow_axis, bend)
    return out


def posed_joints(
    rest: Mapping[str, np.ndarray],
    parents: Mapping[str, str | None],
    local: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(position, world rotation) of every joint: forward kinematics from rest positions,
    parents (parents first) and local rotations (identity where none is given)."""
    position: dict[str, np.ndarray] = {}
    world: dict[str, np.ndarray] = {}
    for name, parent in parents.items():
        own = local.get(name, np.eye(3))
        if parent is None:
            world[name] = own
            position[name] = np.asarray(rest[name], dtype=np.float64)
        else:
            world[name] = world[parent] @ own
            offset = np.asarray(rest[name]) - np.asarray(rest[parent])
            position[name] = position[parent] + world[parent] @ offset
    return position, world
