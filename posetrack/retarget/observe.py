"""What one frame shows the solver: keypoint tables per model and the observation of a frame.

A model's keypoint list becomes a `Keypoints` table once (which rows make each limb vector,
which must be confident, the torso and head rows); each frame, `observe` turns the confident
points into limb vectors and the torso and head frames, in the character's axes.
"""

from dataclasses import dataclass

import numpy as np

from posetrack.retarget import axes, quat
from posetrack.retarget.limbs import UP

# A left-right line shorter than this fraction of the torso (a side view in 2D) has no reliable
# sign: the torso frame is then treated as unobserved and held.
_MIN_LATERAL = 0.05
_TORSO_KEYPOINTS = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
HEAD_KEYPOINTS = ("left_ear", "right_ear", "nose")


@dataclass(frozen=True)
class Keypoints:
    """One model's keypoint list as the solver reads it (mirrored names in mirror mode).

    Rows past the model's own K: K is a keypoint the model lacks (never confident), K + 1 a
    padding entry (always confident).
    """

    vectors: np.ndarray  # (S, K) observed vector of each source = vectors @ points
    needs: np.ndarray  # (S, w) rows that must all be confident for each source
    torso: np.ndarray  # rows of left_hip, right_hip, left_shoulder, right_shoulder
    head: np.ndarray  # rows of left_ear, right_ear, nose


@dataclass(frozen=True)
class Observation:
    """What one frame shows, in the character frame (None where unobserved)."""

    vectors: np.ndarray  # (S, 3) observed vector of each source; UP where unobserved
    seen: np.ndarray  # (S,) which sources are observed
    torso: np.ndarray | None  # (2, 4) world deltas of the hips frame and the shoulder frame
    head: np.ndarray | None  # (4,) head world delta from the ears and nose (3D only)
    planar: bool  # 2D solve: no hinge limits or twist, the head aimed along the ear line


def keypoint_table(names: tuple[str, ...], mirror: bool, sources: list[tuple]) -> Keypoints:
    """The keypoint tables of one model's names for the solver's `sources` (start keypoints,
    end keypoints, keypoints required), one row each."""
    named = axes.mirror_names(names, mirror)
    row = {name: i for i, name in enumerate(named)}
    lacking, padding = len(named), len(named) + 1
    width = max(len(needs) for _, _, needs in sources)
    vectors = np.zeros((len(sources), len(named)))
    needs = np.full((len(sources), width), padding)
    for s, (start, end, required) in enumerate(sources):
        for names_, sign in ((end, 1.0), (start, -1.0)):  # mean(end) - mean(start)
            for name in names_:
                if name in row:
                    vectors[s, row[name]] += sign / len(names_)
        needs[s, : len(required)] = [row.get(k, lacking) for k in required]
    return Keypoints(
        vectors,
        needs,
        np.array([row.get(k, lacking) for k in _TORSO_KEYPOINTS]),
        np.array([row.get(k, lacking) for k in HEAD_KEYPOINTS]),
    )


def observe(
    table: Keypoints,
    points: np.ndarray,
    ok: np.ndarray,
    planar: bool,
    rest_torso_inverse: np.ndarray,
    nose_pitch_deg: float,
) -> Observation:
    """Observed vectors, torso and head of one frame (`points` made by `padded`)."""
    vectors = table.vectors @ points[: table.vectors.shape[1]]
    seen = ok[table.needs].all(axis=1) & (quat.norm(vectors) > 0.0)
    vectors = np.where(seen[:, None], vectors, UP)  # a harmless stand-in where unobserved
    torso = torso_deltas(points[table.torso], rest_torso_inverse) if ok[table.torso].all() else None
    head = None
    if not planar and ok[table.head].all():
        head = head_delta(points[table.head], nose_pitch_deg)
    return Observation(vectors, seen, torso, head, planar)


def torso_deltas(torso: np.ndarray, rest_torso_inverse: np.ndarray) -> np.ndarray | None:
    """World deltas (2, 4) of the hips frame and the shoulder frame from the left hip,
    right hip, left shoulder and right shoulder; None when they do not make a frame."""
    left_hip, right_hip, left_shoulder, right_shoulder = torso
    up = 0.5 * (left_shoulder + right_shoulder - left_hip - right_hip)
    size = quat.norm(up)
    if size == 0.0:
        return None
    lateral = np.array([left_hip - right_hip, left_shoulder - right_shoulder])
    across = lateral - (quat.dot(lateral, up) / size**2)[:, None] * up
    if (quat.norm(across) < _MIN_LATERAL * size).any():
        return None
    return quat.mul(quat.from_basis(lateral, up), rest_torso_inverse)


def head_delta(head: np.ndarray, nose_pitch_deg: float) -> np.ndarray | None:
    """3D head world delta from the left ear, right ear and nose (the rest head faces -Y,
    Z up); None when they do not make a frame."""
    left_ear, right_ear, nose = head
    lateral = left_ear - right_ear
    if quat.norm(lateral) == 0.0:
        return None
    back = 0.5 * (left_ear + right_ear) - nose
    back = back - (quat.dot(back, lateral) / quat.dot(lateral, lateral)) * lateral
    pitch = quat.from_axis_angle(lateral, -np.radians(nose_pitch_deg))
    up = quat.cross(lateral, quat.rotate(pitch, back))
    try:
        return quat.from_basis(lateral, up)  # the rest head frame is the identity
    except ValueError:
        return None


def padded(points: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Points (K, 3) with unconfident ones zeroed (they may be anything, even NaN) and two
    zero rows appended for the lacking and padding entries of `Keypoints`."""
    out = np.zeros((len(ok), 3))
    out[:-2] = np.where(ok[:-2, None], points, 0.0)
    return out
