"""Measures of how a pose sequence moves: limb directions, angular speed, filter lag.

Used by the jitter/lag benchmark and its test; plain numpy over (K, 3) keypoint arrays.
"""

from collections.abc import Sequence

import numpy as np

# The limbs compared everywhere: (name, start keypoint, end keypoint).
LIMB_KEYPOINTS: tuple[tuple[str, str, str], ...] = tuple(
    (f"{side}_{limb}", f"{side}_{a}", f"{side}_{b}")
    for side in ("left", "right")
    for limb, a, b in (
        ("upper_arm", "shoulder", "elbow"), ("lower_arm", "elbow", "wrist"),
        ("thigh", "hip", "knee"), ("shin", "knee", "ankle"),
    )
)  # fmt: skip


def limb_directions(names: Sequence[str], points: np.ndarray) -> np.ndarray:
    """(8, 3) unit directions of LIMB_KEYPOINTS' limbs from (K, >=3) points named `names`."""
    ix = {n: i for i, n in enumerate(names)}
    p = np.asarray(points, dtype=np.float64)[:, :3]
    d = np.array([p[ix[b]] - p[ix[a]] for _, a, b in LIMB_KEYPOINTS])
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle between unit vectors along the last axis, degrees."""
    return np.degrees(np.arccos(np.clip(np.sum(u * v, axis=-1), -1.0, 1.0)))


def angular_speeds(directions: Sequence[np.ndarray]) -> np.ndarray:
    """(N - 1, limbs) degrees each limb turns from one frame to the next."""
    d = np.asarray(directions)
    return angle_deg(d[1:], d[:-1])


def lag_frames(
    raw: Sequence[np.ndarray | None],
    filtered: Sequence[np.ndarray | None],
    fast_deg: tuple[float, float] = (10.0, 60.0),
    max_lag: float = 3.0,
    step: float = 0.05,
) -> float:
    """How many frames `filtered` trails `raw` on fast movement (sub-frame).

    Each argument holds per frame the (limbs, 3) unit directions, or None (no person). The
    frames scored are those where a limb turns between `fast_deg` degrees since the last
    frame (fast, but below a left/right swap of the model); the lag is the delay tau whose
    raw signal, linearly interpolated at t - tau, is closest on those frames to the filtered
    one (summed angle), searched from 0 to `max_lag` frames.
    """
    taus = np.arange(0.0, max_lag + step / 2, step)
    cost = np.zeros(len(taus))
    span = int(np.ceil(max_lag)) + 1
    for t in range(span, len(raw)):
        window = raw[t - span : t + 1]
        if filtered[t] is None or any(r is None for r in window):
            continue
        speed = angle_deg(raw[t], raw[t - 1])
        fast = (speed > fast_deg[0]) & (speed < fast_deg[1])
        if not fast.any():
            continue
        for k, tau in enumerate(taus):
            whole = int(np.floor(tau))
            part = tau - whole
            g = (1.0 - part) * raw[t - whole] + part * raw[t - whole - 1]
            g = g / np.linalg.norm(g, axis=1, keepdims=True)
            cost[k] += angle_deg(filtered[t], g)[fast].sum()
    if not cost.any():
        raise ValueError("no fast movement in the sequence: the lag is undefined")
    return float(taus[int(np.argmin(cost))])


def stream_limb_errors(lines: list[dict], visible: float = 0.5) -> dict[str, list[float]]:
    """Per limb, the angles (degrees) between the character's limb and the tracked world limb
    over a `posetrack track --character` JSONL stream (header, frames, summary), counting the
    first pose of each frame where both ends have confidence >= `visible`."""
    ix = {n: i for i, n in enumerate(lines[0]["keypoints"])}
    errors: dict[str, list[float]] = {limb: [] for limb, _, _ in LIMB_KEYPOINTS}
    for line in lines[1:-1]:
        for pose in line["poses"][:1]:
            world, kp, char = (
                np.array(pose["world"]),
                np.array(pose["keypoints"]),
                pose["character"],
            )
            for limb, a, b in LIMB_KEYPOINTS:
                if min(kp[ix[a], 2], kp[ix[b], 2]) < visible:
                    continue
                u = world[ix[b]] - world[ix[a]]
                v = np.subtract(char[b], char[a])
                errors[limb].append(float(angle_deg(u / np.linalg.norm(u), v / np.linalg.norm(v))))
    return errors
