"""Small unit-quaternion helpers in numpy.

Convention: a quaternion is a float64 array (w, x, y, z), Hamilton product, acting on column
vectors as v' = q v q*. `mul(a, b)` is "b first, then a" (like matrices: M_a @ M_b).

Panda3D's LQuaternionf has the same component order and the same rotation of a vector
(`LQuaternionf(w, x, y, z).xform(v)` equals `rotate(q, v)`), but Panda composes the other way
round: Panda's `qa * qb` means "qa first, then qb", i.e. `mul(b, a)` here. tests check both.
"""

import numpy as np

_EPS = 1e-12  # below this a vector or quaternion norm counts as zero


def identity() -> np.ndarray:
    """The rotation that does nothing."""
    return np.array([1.0, 0.0, 0.0, 0.0])


def normalize(q: np.ndarray) -> np.ndarray:
    """q scaled to unit length, with w >= 0 (one of the two quaternions of a rotation)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q)
    return -q if q[0] < 0 else q


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b: the rotation b followed by a."""
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


def inverse(q: np.ndarray) -> np.ndarray:
    """Inverse of a unit quaternion (its conjugate)."""
    return np.array([q[0], -q[1], -q[2], -q[3]])


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vector(s) v (..., 3) rotated by q."""
    return np.asarray(v, dtype=np.float64) @ to_matrix(q).T


def from_axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by `angle` radians about `axis` (right-hand rule)."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    return np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis])


def from_two_vectors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The swing: shortest-arc rotation that turns direction a onto direction b.

    Opposite vectors have no unique shortest arc: the half turn is taken about an axis
    perpendicular to a (deterministic, so a frame-to-frame caller does not flicker).
    """
    a = np.asarray(a, dtype=np.float64) / np.linalg.norm(a)
    b = np.asarray(b, dtype=np.float64) / np.linalg.norm(b)
    d = float(a @ b)
    if d < -1.0 + 1e-9:
        helper = np.eye(3)[int(np.argmin(np.abs(a)))]
        return np.concatenate([[0.0], _unit(np.cross(a, helper))])
    # half-angle form: q = (1 + a.b, a x b) normalised, exact and stable away from d = -1
    return normalize(np.concatenate([[1.0 + d], np.cross(a, b)]))


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation from a (t=0) to b (t=1) along the shorter arc."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = float(a @ b)
    if d < 0.0:  # q and -q are the same rotation: go the short way
        b, d = -b, -d
    if d > 1.0 - 1e-9:
        return normalize(a + t * (b - a))
    theta = np.arccos(min(d, 1.0))
    s = np.sin(theta)
    return normalize((np.sin((1 - t) * theta) * a + np.sin(t * theta) * b) / s)


def angle(q: np.ndarray) -> float:
    """Rotation angle of q in radians, in [0, pi]."""
    return float(2.0 * np.arccos(min(1.0, abs(float(q[0])) / np.linalg.norm(q))))


def to_matrix(q: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix acting on column vectors."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Unit quaternion of a 3x3 rotation matrix (column vectors); Shepperd's stable branch."""
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
    return normalize(np.array(q))


def from_basis(lateral: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation of the frame (x = lateral, y = up x lateral, z = up); `up` wins, `lateral` is
    made perpendicular to it. Raises ValueError when the two are (nearly) parallel."""
    z = _unit(up)
    x = np.asarray(lateral, dtype=np.float64) - (lateral @ z) * z
    x = _unit(x)
    return from_matrix(np.column_stack([x, np.cross(z, x), z]))


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < _EPS:
        raise ValueError("zero-length vector has no direction")
    return np.asarray(v, dtype=np.float64) / n
