"""The mannequin's surface: lofted low-poly solids around its bones, with skin weights.

Every solid is a loft: rings of `sides` points around an axis, closed by a point at each end.
A ring is (t along the axis, radius to the front, radius to the side, offset to the front); a
polygon's colour and each vertex's joint weights are functions of t. Polygons wind counter-
clockwise seen from outside (Panda3D's front faces). Points are model space, metres.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

Weights = dict[str, float]
Colour = tuple[float, float, float]

# A calm palette that reads well under one key light: skin, clothes and side accents (left
# warm, right cool, so mirrored or swapped limbs are easy to spot in renders).
SKIN: Colour = (0.86, 0.74, 0.62)
HAIR: Colour = (0.23, 0.17, 0.13)
SHIRT: Colour = (0.22, 0.42, 0.68)
SHORTS: Colour = (0.20, 0.22, 0.27)
SHOES: Colour = (0.16, 0.16, 0.18)
ACCENT = {"l": (0.93, 0.55, 0.18), "r": (0.18, 0.66, 0.70)}

_FRONT = np.array([0.0, -1.0, 0.0])  # the mannequin faces -Y
_UP = np.array([0.0, 0.0, 1.0])


# Limb cross-sections: rings (fraction of the bone's length, radius to the front, radius to
# the side, shift to the front) and how far the solid reaches before/after its two joints, in
# metres for a 1.77 m figure; modelled on a slim adult (widest at the biceps, calf, thigh).
_LIMBS: dict[str, tuple[tuple[tuple[float, float, float, float], ...], tuple[float, float]]] = {
    "upper_arm": (((0.0, 0.052, 0.052, 0.0), (0.45, 0.054, 0.054, 0.0),
                   (0.85, 0.044, 0.044, 0.0), (1.0, 0.04, 0.04, 0.0)), (0.03, 0.02)),
    "lower_arm": (((0.0, 0.041, 0.041, 0.0), (0.3, 0.047, 0.045, 0.0),
                   (0.95, 0.032, 0.03, 0.0)), (0.02, 0.01)),
    # the hand is flat: wide to the front, thin to the side, so the palm faces the thigh
    "hand": (((0.05, 0.032, 0.018, 0.0), (0.45, 0.046, 0.022, 0.0),
              (0.75, 0.042, 0.019, 0.0), (0.93, 0.028, 0.014, 0.0)), (0.0, 0.0)),
    "upper_leg": (((0.0, 0.08, 0.08, 0.0), (0.3, 0.078, 0.078, 0.0),
                   (0.6, 0.068, 0.068, 0.0), (1.0, 0.052, 0.052, 0.0)), (0.04, 0.02)),
    "lower_leg": (((0.0, 0.052, 0.052, 0.0), (0.3, 0.058, 0.055, -0.006),
                   (0.9, 0.037, 0.037, 0.0)), (0.02, 0.01)),
}  # fmt: skip


def frame_along(aim: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right-handed axes (x, y, z): y along `aim`, z towards the front (or up if aim is)."""
    y = np.asarray(aim, dtype=np.float64) / np.linalg.norm(aim)
    ref = _FRONT if abs(y @ _FRONT) < 0.9 else _UP  # 0.9: ~25 deg from the front is too close
    z = ref - (ref @ y) * y
    z /= np.linalg.norm(z)
    return np.cross(y, z), y, z


def blend(knots: Sequence[tuple[float, str]]) -> Callable[[float], Weights]:
    """Weights by t: all to a knot's joint at or beyond it, linear between adjacent knots."""

    def weights(t: float) -> Weights:
        if t <= knots[0][0]:
            return {knots[0][1]: 1.0}
        for (t0, j0), (t1, j1) in zip(knots, knots[1:], strict=False):
            if t <= t1:
                a = (t - t0) / (t1 - t0)
                return {j0: 1.0 - a, j1: a} if j0 != j1 else {j0: 1.0}
        return {knots[-1][1]: 1.0}

    return weights


class MeshBuilder:
    """Collects polygons: (points, colour, per-point joint weights)."""

    def __init__(self) -> None:
        self._polys: list[tuple[list[np.ndarray], Colour, list[Weights]]] = []

    def polygons(self) -> Iterator[tuple[list[np.ndarray], Colour, list[Weights]]]:
        yield from self._polys

    def loft(
        self,
        origin: np.ndarray,
        axis: np.ndarray,
        rings: Sequence[tuple[float, float, float, float]],
        start: float,
        end: float,
        colour: Colour | Callable[[float], Colour],
        weights: str | Callable[[float], Weights],
        sides: int = 8,
    ) -> None:
        """A solid along `axis` from the point at t=`start` through `rings` to t=`end`."""
        side, w, front = frame_along(axis)  # front x side = w: rings run counter-clockwise
        colour_at = colour if callable(colour) else (lambda t, c=colour: c)
        weights_at = weights if callable(weights) else (lambda t, j=weights: {j: 1.0})
        angles = np.pi / sides + 2 * np.pi * np.arange(sides) / sides  # a flat facet in front
        circle = [(np.cos(a), np.sin(a)) for a in angles]
        pts = [
            [origin + t * w + (rf * c + df) * front + rs * s * side for c, s in circle]
            for t, rf, rs, df in rings
        ]
        ts = [ring[0] for ring in rings]
        first, last = origin + start * w, origin + end * w
        for k in range(sides):
            k1 = (k + 1) % sides
            mid = (start + ts[0]) / 2
            self._add([first, pts[0][k1], pts[0][k]], colour_at(mid),
                      [weights_at(start), weights_at(ts[0]), weights_at(ts[0])])  # fmt: skip
            for i in range(len(rings) - 1):
                ring, nxt = pts[i], pts[i + 1]
                self._add(
                    [ring[k], ring[k1], nxt[k1], nxt[k]],
                    colour_at((ts[i] + ts[i + 1]) / 2),
                    [weights_at(ts[i])] * 2 + [weights_at(ts[i + 1])] * 2,
                )
            mid = (ts[-1] + end) / 2
            self._add([last, pts[-1][k], pts[-1][k1]], colour_at(mid),
                      [weights_at(end), weights_at(ts[-1]), weights_at(ts[-1])])  # fmt: skip

    def ellipsoid(
        self, centre: np.ndarray, axis: np.ndarray, radii: tuple[float, float, float],
        colour: Colour, joint: str, sides: int = 8, stacks: int = 5,
    ) -> None:  # fmt: skip
        """An ellipsoid: radii to the front, to the side, and along `axis`."""
        rf, rs, ra = radii
        phis = np.pi * np.arange(1, stacks) / stacks
        rings = [(-ra * np.cos(f), rf * np.sin(f), rs * np.sin(f), 0.0) for f in phis]
        self.loft(centre, axis, rings, -ra, ra, colour, joint, sides)

    def body(self, j: Mapping[str, np.ndarray], p: Mapping[str, float]) -> None:
        """The whole mannequin around rest joints `j` (see mannequin.rest_joints)."""
        # body size relative to the 1.77 m figure the radii below were modelled on
        k = (j["head_end"][2] - j["foot_l"][2] + p["ankle_height"]) / 1.77
        self._torso(j, p, k)
        self._head(j, p, k)
        for s in "lr":
            self._arm(j, s, k)
            self._leg(j, p, s, k)

    def _torso(self, j: Mapping[str, np.ndarray], p: Mapping[str, float], k: float) -> None:
        zh, zs, zc, zn = (j[n][2] for n in ("hips", "spine", "chest", "neck"))
        za = zn - p["shoulder_drop"]
        hw, sw = p["hip_width"] / 0.18, p["shoulder_width"] / 0.36
        rings = [  # (z, half depth, half width, forward shift), hips to neck
            (zh - 0.09 * k, 0.075 * k, 0.12 * hw, 0.0),
            (zh - 0.04 * k, 0.095 * k, 0.155 * hw, 0.0),
            (zh + 0.03 * k, 0.10 * k, 0.16 * hw, 0.0),
            (zs + 0.01 * k, 0.09 * k, 0.135 * (hw + sw) / 2, 0.0),
            (zc - 0.01 * k, 0.10 * k, 0.15 * sw, 0.0),
            (zc + 0.5 * (za - zc), 0.11 * k, 0.165 * sw, 0.01 * k),
            (za, 0.095 * k, 0.16 * sw, 0.0),
            (zn - 0.01 * k, 0.06 * k, 0.08 * sw, 0.0),
        ]
        rings = [(z - zh, d, w, f) for z, d, w, f in rings]  # t from the hips joint
        belt = 0.05 * k
        knots = [(0.03 * k, "hips"), (zs - zh + 0.03 * k, "spine"), (zc - zh + 0.03 * k, "chest")]
        self.loft(j["hips"], _UP, rings, -0.12 * k, zn - zh + 0.005 * k,
                  lambda t: SHORTS if t < belt else SHIRT, blend(knots), sides=10)  # fmt: skip
        neck_len = j["head"][2] - zn
        self.loft(j["neck"], _UP, [(-0.03 * k, 0.05 * k, 0.05 * k, 0),
                                   (neck_len + 0.03 * k, 0.045 * k, 0.045 * k, 0)],
                  -0.04 * k, neck_len + 0.04 * k, SKIN, "neck")  # fmt: skip

    def _head(self, j: Mapping[str, np.ndarray], p: Mapping[str, float], k: float) -> None:
        h = p["head"] / 0.20
        centre = j["head"] + np.array([0, -0.01 * h, 0.10 * h])
        self.ellipsoid(centre, _UP, (0.105 * h, 0.09 * h, 0.12 * h), SKIN, "head")
        hair = centre + np.array([0, 0.022 * h, 0.024 * h])
        self.ellipsoid(hair, _UP, (0.1 * h, 0.097 * h, 0.112 * h), HAIR, "head", stacks=4)
        nose = centre + np.array([0, -0.097 * h, -0.015 * h])
        self.loft(nose, _FRONT, [(0.0, 0.014 * h, 0.011 * h, 0.0)], -0.01 * h, 0.028 * h,
                  SKIN, "head", sides=4)  # fmt: skip

    def _arm(self, j: Mapping[str, np.ndarray], s: str, k: float) -> None:
        up, low, hand, end = (j[f"{n}_{s}"] for n in ("upper_arm", "lower_arm", "hand", "hand_end"))
        self.ellipsoid(up, up - j[f"shoulder_{s}"], (0.056 * k,) * 3, SHIRT, f"upper_arm_{s}")
        self._limb(up, low, "upper_arm", k, SKIN, f"upper_arm_{s}", sleeve=(0.45, SHIRT))
        self.ellipsoid(low, low - up, (0.046 * k,) * 3, ACCENT[s], f"lower_arm_{s}", 6, 4)
        self._limb(low, hand, "lower_arm", k, SKIN, f"lower_arm_{s}")
        self.ellipsoid(hand, hand - low, (0.036 * k,) * 3, ACCENT[s], f"hand_{s}", 6, 4)
        self._limb(hand, end, "hand", k, SKIN, f"hand_{s}", sides=6)

    def _leg(self, j: Mapping[str, np.ndarray], p: Mapping[str, float], s: str, k: float) -> None:
        hip, knee, ankle = (j[f"{n}_{s}"] for n in ("upper_leg", "lower_leg", "foot"))
        self.ellipsoid(hip, knee - hip, (0.08 * k,) * 3, SHORTS, f"upper_leg_{s}")
        self._limb(hip, knee, "upper_leg", k, SKIN, f"upper_leg_{s}", sleeve=(0.3, SHORTS))
        self.ellipsoid(knee, knee - hip, (0.06 * k,) * 3, ACCENT[s], f"lower_leg_{s}", 6, 4)
        self._limb(knee, ankle, "lower_leg", k, SKIN, f"lower_leg_{s}")
        self.ellipsoid(ankle, ankle - knee, (0.044 * k,) * 3, ACCENT[s], f"foot_{s}", 6, 4)
        length = p["foot"]
        toe = j[f"toes_end_{s}"]
        heel = np.array([toe[0], toe[1] + length, 0.045 * k])
        rings = [(0.02 * length, 0.035 * k, 0.034 * k, 0.0),  # (t, half height, half width, up)
                 (0.3 * length, 0.045 * k, 0.042 * k, 0.005 * k),
                 (0.62 * length, 0.035 * k, 0.046 * k, -0.01 * k),
                 (0.85 * length, 0.025 * k, 0.042 * k, -0.02 * k)]  # fmt: skip
        knots = [(0.62 * length, f"foot_{s}"), (0.78 * length, f"toes_{s}")]
        self.loft(heel, _FRONT, rings, 0.0, length, SHOES, blend(knots), sides=6)

    def _limb(
        self, a: np.ndarray, b: np.ndarray, part: str, k: float, colour: Colour, joint: str,
        sleeve: tuple[float, Colour] | None = None, sides: int = 8,
    ) -> None:  # fmt: skip
        """A limb from joint `a` to joint `b` shaped by _LIMBS[part], scaled by body size k."""
        length = float(np.linalg.norm(b - a))
        profile, (before, after) = _LIMBS[part]
        rings = [(f * length, rf * k, rs * k, shift * k) for f, rf, rs, shift in profile]
        if sleeve is None:
            colour_at: Colour | Callable[[float], Colour] = colour
        else:
            colour_at = lambda t: sleeve[1] if t < sleeve[0] * length else colour  # noqa: E731
        self.loft(a, b - a, rings, -before * k, length + after * k, colour_at, joint, sides)

    def _add(self, points: list[np.ndarray], colour: Colour, weights: list[Weights]) -> None:
        self._polys.append((points, colour, weights))
