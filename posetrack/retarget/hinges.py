"""Elbows and knees as hinges, for a batch of them at once (the solver's steps).

The upper bone is twisted about its own axis so the hinge plane holds the lower bone
(`twist_to_hinge`), and the lower bone's flexion is clamped between slight hyperextension and
full flexion, with a little off-plane play (`limit`). Both fade out for a nearly straight limb,
whose bend plane is keypoint noise (`hinge_weight`).
"""

from dataclasses import dataclass

import numpy as np

from posetrack.retarget import quat

# Hinge twist fades in between these bend angles: below ~5 deg the bend plane of a nearly
# straight limb is keypoint noise, and by ~20 deg it is well defined (a 25 cm forearm bent 20
# deg puts the wrist ~8 cm off the line, many times the landmark noise).
_TWIST_FADE_DEG = (5.0, 20.0)
# Off-plane play of a bent hinge: knees and elbows give ~5 deg of varus/valgus laxity; also
# several times the ~1 deg that 5 mm of landmark noise tilts a 40 cm shank.
_HINGE_PLAY_DEG = 5.0


@dataclass(frozen=True)
class Hinges:
    """Elbows or knees solved in one step: where they sit in it, and their tables."""

    at: np.ndarray  # positions within the step of the bones concerned
    upper_dir: np.ndarray  # (k, 3) rest direction of the hinge's upper bone
    bend: np.ndarray  # (k, 3) rest bend direction, perpendicular to upper_dir
    flex: np.ndarray  # (k, 2) flexion range (radians): -hyperextension, max flexion
    max_twist: np.ndarray  # (k,) twist limit of the upper bone (radians)
    lower_source: np.ndarray  # (k,) observed-vector row of the hinge's lower bone


def limit(h: Hinges, s: np.ndarray, turn: np.ndarray) -> np.ndarray:
    """Lower-bone directions with the hinge flexion clamped to its anatomical range; `turn`
    is the upper bone's delta as a matrix."""
    u = (turn @ h.upper_dir[..., None])[..., 0]
    b = (turn @ h.bend[..., None])[..., 0]
    a = quat.cross(u, b)
    s = s / quat.norm(s)[:, None]
    # out of the hinge plane: none once the bend is well defined (the twist put the lower
    # bone in the plane, unless the twist limit stopped it), beyond a little play; near
    # straight the plane is noise, so the off-plane part is kept
    bend = np.arccos(np.clip(quat.dot(s, u), -1.0, 1.0))
    allow = bend * np.minimum(1.0, np.pi * (1.0 - hinge_weight(u, s)))
    allow = allow + np.radians(_HINGE_PLAY_DEG)
    psi = np.clip(np.arcsin(np.clip(quat.dot(s, a), -1.0, 1.0)), -allow, allow)
    phi = np.arctan2(quat.dot(s, b), quat.dot(s, u))  # flexion, negative = hyperextension
    lo, hi = h.flex[:, 0], h.flex[:, 1]
    # outside the range: go to the nearer end, measured around the circle
    nearer = np.where((lo - phi) % (2 * np.pi) < (phi - hi) % (2 * np.pi), lo, hi)
    phi = np.where((lo <= phi) & (phi <= hi), phi, nearer)
    psi, phi = psi[:, None], phi[:, None]
    return np.cos(psi) * (np.cos(phi) * u + np.sin(phi) * b) + np.sin(psi) * a


def twist_to_hinge(
    h: Hinges, delta: np.ndarray, upper: np.ndarray, lower: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Twist the upper bones about themselves so each hinge bends toward its lower bone
    (scaled by `weight`: 0 leaves a bone as it is)."""
    u = upper / quat.norm(upper)[:, None]
    s = lower / quat.norm(lower)[:, None]
    weight = weight * hinge_weight(u, s)
    b0 = quat.rotate(delta, h.bend)
    sp = s - quat.dot(s, u)[:, None] * u
    tau = np.arctan2(quat.dot(quat.cross(b0, sp), u), quat.dot(b0, sp))
    tau = np.clip(tau, -h.max_twist, h.max_twist)
    return quat.mul(quat.from_axis_angle(u, weight * tau), delta)


def hinge_weight(u: np.ndarray, s: np.ndarray) -> np.ndarray:
    """0 for a straight limb (bend plane undefined) rising smoothly to 1 once it is defined."""
    cos = quat.dot(u, s) / (quat.norm(u) * quat.norm(s))
    bend = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    lo, hi = _TWIST_FADE_DEG
    x = np.clip((bend - lo) / (hi - lo), 0.0, 1.0)
    return x * x * (3 - 2 * x)  # smoothstep: no kink where the twist starts
