"""Unit-quaternion helpers in numpy, batched: every function takes arrays of any leading shape.

Convention: a quaternion is a float64 array (..., 4) = (w, x, y, z), Hamilton product, acting
on column vectors as v' = q v q*; vectors are (..., 3). `mul(a, b)` is "b first, then a" (like
matrices: M_a @ M_b). Arguments broadcast against each other like numpy operands, so one
quaternion can act on many vectors or many quaternions on one vector.

Panda3D's LQuaternionf has the same component order and the same rotation of a vector
(`LQuaternionf(w, x, y, z).xform(v)` equals `rotate(q, v)`), but Panda composes the other way
round: Panda's `qa * qb` means "qa first, then qb", i.e. `mul(b, a)` here. tests check both.

The solver calls these on a handful of bones at a time, so each is written as a few whole-array
numpy operations (no per-element Python) and without np.cross / np.linalg.norm, whose argument
checking costs more than the arithmetic at this size.
"""

import numpy as np

_EPS = 1e-12  # below this a vector or quaternion norm counts as zero
# slerp falls back to a normalised lerp when the two rotations are this close (cos of the
# half-angle): sin(theta) would be ~4e-5 and the division would amplify rounding
_SLERP_LINEAR = 1.0 - 1e-9
# from_two_vectors treats directions this close to opposite (cos) as exactly opposite
_OPPOSITE = -1.0 + 1e-9

# mul(a, b) = L(a) @ b, with L(a) the 4x4 matrix of "multiply by a on the left":
# L(a)[i, j] = _L_SIGN[i, j] * a[_L_INDEX[i, j]]
_L_INDEX = np.array([[0, 1, 2, 3], [1, 0, 3, 2], [2, 3, 0, 1], [3, 2, 1, 0]])
_L_SIGN = np.array(
    [[1.0, -1.0, -1.0, -1.0], [1.0, 1.0, -1.0, 1.0], [1.0, 1.0, 1.0, -1.0], [1.0, -1.0, 1.0, 1.0]]
)
_CONJUGATE = np.array([1.0, -1.0, -1.0, -1.0])
# cross(a, b) = a[_NEXT] * b[_PREV] - a[_PREV] * b[_NEXT]
_NEXT, _PREV = np.array([1, 2, 0]), np.array([2, 0, 1])
# to_matrix: M = I + 2 * (P[_M1] * _M1_SIGN + P[_M2] * _M2_SIGN), P the outer product q q^T of
# the unit quaternion; e.g. M[0, 0] = 1 - 2 (y y + z z), M[0, 1] = 2 (x y - w z)
_M1 = (np.array([[2, 1, 1], [1, 1, 2], [1, 2, 1]]), np.array([[2, 2, 3], [2, 1, 3], [3, 3, 1]]))
_M2 = (np.array([[3, 0, 0], [0, 3, 0], [0, 0, 2]]), np.array([[3, 3, 2], [3, 3, 1], [2, 1, 2]]))
_M1_SIGN = np.array([[-1.0, 1.0, 1.0], [1.0, -1.0, 1.0], [1.0, 1.0, -1.0]])
_M2_SIGN = np.array([[-1.0, -1.0, 1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, -1.0]])


def _shepperd_table() -> np.ndarray:
    """(16, 9): the matrix K (4x4, row by row) of from_matrix as sums of m's elements (row by
    row), less the 1 on K's diagonal; "+21 -12" is m[2, 1] - m[1, 2]."""
    terms = [
        "+00 +11 +22", "+21 -12", "+02 -20", "+10 -01",
        "+21 -12", "+00 -11 -22", "+01 +10", "+02 +20",
        "+02 -20", "+01 +10", "-00 +11 -22", "+12 +21",
        "+10 -01", "+02 +20", "+12 +21", "-00 -11 +22",
    ]  # fmt: skip
    table = np.zeros((16, 9))
    for k, sums in enumerate(terms):
        for term in sums.split():
            table[k, 3 * int(term[1]) + int(term[2])] = 1.0 if term[0] == "+" else -1.0
    return table


_K_OF_M = _shepperd_table()
_K_ONE = np.eye(4).reshape(16)  # the 1 on K's diagonal


def identity() -> np.ndarray:
    """The rotation that does nothing."""
    return np.array([1.0, 0.0, 0.0, 0.0])


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot product over the last axis."""
    return (a * b).sum(axis=-1)


def norm(v: np.ndarray) -> np.ndarray:
    """Euclidean length over the last axis."""
    return np.sqrt((v * v).sum(axis=-1))


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of 3-vectors over the last axis."""
    return a[..., _NEXT] * b[..., _PREV] - a[..., _PREV] * b[..., _NEXT]


def normalize(q: np.ndarray) -> np.ndarray:
    """q scaled to unit length, with w >= 0 (one of the two quaternions of a rotation)."""
    q = np.asarray(q, dtype=np.float64)
    n = norm(q)
    return q / np.where(q[..., 0] < 0, -n, n)[..., None]


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b: the rotation b followed by a."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return ((a[..., _L_INDEX] * _L_SIGN) @ b[..., None])[..., 0]


def inverse(q: np.ndarray) -> np.ndarray:
    """Inverse of a unit quaternion (its conjugate)."""
    return np.asarray(q, dtype=np.float64) * _CONJUGATE


def to_matrix(q: np.ndarray) -> np.ndarray:
    """3x3 rotation matrices (..., 3, 3) acting on column vectors (q need not be unit)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / norm(q)[..., None]
    p = q[..., :, None] * q[..., None, :]
    return np.eye(3) + 2.0 * (p[..., _M1[0], _M1[1]] * _M1_SIGN + p[..., _M2[0], _M2[1]] * _M2_SIGN)


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vector(s) v (..., 3) rotated by q (..., 4)."""
    return (to_matrix(q) @ np.asarray(v, dtype=np.float64)[..., None])[..., 0]


def from_axis_angle(axis: np.ndarray, angle: float | np.ndarray) -> np.ndarray:
    """Rotation by `angle` radians about `axis` (right-hand rule)."""
    axis = np.asarray(axis, dtype=np.float64)
    half = np.asarray(angle, dtype=np.float64)[..., None] / 2
    vector = np.sin(half) * (axis / norm(axis)[..., None])
    scalar = np.broadcast_to(np.cos(half), vector.shape[:-1] + (1,))
    return np.concatenate([scalar, vector], axis=-1)


def from_two_vectors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The swing: shortest-arc rotation that turns direction a onto direction b.

    Opposite vectors have no unique shortest arc: the half turn is taken about an axis
    perpendicular to a (deterministic, so a frame-to-frame caller does not flicker).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = np.broadcast_arrays(a / norm(a)[..., None], b / norm(b)[..., None])
    d = dot(a, b)[..., None]
    # half-angle form: q = (1 + a.b, a x b) normalised, exact and stable away from d = -1
    q = np.concatenate([1.0 + d, cross(a, b)], axis=-1)
    opposite = d[..., 0] < _OPPOSITE
    if not opposite.any():
        return normalize(q)
    q[opposite] = identity()  # a placeholder that normalises quietly; replaced below
    q = normalize(q)
    a_opp = a[opposite]
    helper = np.eye(3)[np.argmin(np.abs(a_opp), axis=-1)]
    axis = _unit(cross(a_opp, helper))
    q[opposite] = np.concatenate([np.zeros(axis.shape[:-1] + (1,)), axis], axis=-1)
    return q


def slerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation from a (t=0) to b (t=1) along the shorter arc."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)[..., None]
    d = dot(a, b)[..., None]
    b = np.where(d < 0.0, -b, b)  # q and -q are the same rotation: go the short way
    d = np.abs(d)
    near = d > _SLERP_LINEAR
    theta = np.arccos(np.minimum(d, 1.0))
    s = np.where(near, 1.0, np.sin(theta))  # near: the lerp below is used, s is a placeholder
    arc = (np.sin((1 - t) * theta) * a + np.sin(t * theta) * b) / s
    return normalize(np.where(near, a + t * (b - a), arc))


def angle(q: np.ndarray) -> float | np.ndarray:
    """Rotation angle of q in radians, in [0, pi] (a float for one quaternion)."""
    q = np.asarray(q, dtype=np.float64)
    out = 2.0 * np.arccos(np.minimum(1.0, np.abs(q[..., 0]) / norm(q)))
    return float(out) if out.ndim == 0 else out


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Unit quaternions of rotation matrices (..., 3, 3) (column vectors); Shepperd's method.

    Row k of the symmetric matrix K (see _shepperd_table) is 4 q_k q (k = w, x, y, z, e.g.
    K[0] = (1 + trace, m21 - m12, m02 - m20, m10 - m01)); the row Shepperd picks (the trace if
    positive, else the largest diagonal element of m) divided by 2 sqrt(K_kk) is q, without
    cancellation.
    """
    m = np.asarray(m, dtype=np.float64)
    shape = m.shape[:-2]
    m = m.reshape(-1, 9)
    k = (m @ _K_OF_M.T + _K_ONE).reshape(-1, 4, 4)
    m00, m11, m22 = m[:, 0], m[:, 4], m[:, 8]
    branch = np.where(
        m00 + m11 + m22 > 0, 0, np.where((m00 > m11) & (m00 > m22), 1, np.where(m11 > m22, 2, 3))
    )
    each = np.arange(len(m))
    row = k[each, branch]
    s = 2.0 * np.sqrt(row[each, branch])
    q = row / s[:, None]
    q[each, branch] = 0.25 * s  # the diagonal element itself as Shepperd writes it: s / 4
    return normalize(q).reshape(shape + (4,))


def from_basis(lateral: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation of the frame (x = lateral, y = up x lateral, z = up); `up` wins, `lateral` is
    made perpendicular to it. Raises ValueError when the two are (nearly) parallel."""
    lateral, up = np.broadcast_arrays(np.asarray(lateral, np.float64), np.asarray(up, np.float64))
    z = _unit(up)
    x = _unit(lateral - dot(lateral, z)[..., None] * z)
    return from_matrix(np.stack([x, cross(z, x), z], axis=-1))


def _unit(v: np.ndarray) -> np.ndarray:
    """v / |v|; raises ValueError when any of the vectors is (nearly) zero."""
    v = np.asarray(v, dtype=np.float64)
    n = norm(v)
    if np.any(n < _EPS):
        raise ValueError("zero-length vector has no direction")
    return v / n[..., None]
