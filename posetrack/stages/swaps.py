"""Left/right swap correction: keep each limb pair's labels continuous from frame to frame.

BlazePose (full, lite) sometimes labels a person's left limbs right and back again, for runs of
frames, in side and back views: on Pose2Sim's four calibrated views one camera's blazepose-full
stream has both legs and both arms exchanged for 25 of 100 frames. The model's own world
landmarks stay a coherent body with the same exchanged labels (measured against the
triangulated 3D: exchanging their labels back brings those frames from 83 to 20 degrees of
median limb-direction error; mirroring their depth as well makes it worse), so the fix is a
relabelling of rows, 2D and world together.

The rule, per limb pair (arms: shoulder..fingers, legs: hip..toes), each frame: compare the
cost of the model's labels (each joint to where it was on the reference frame: the last
corrected frame that fitted well) with the cost of the pair exchanged (each joint to the other
side's place), in torso lengths summed over shoulder, elbow, wrist (hip, knee, ankle). The
labels are exchanged when that is clearly closer: under `RATIO` of the model's cost and by more
than `MARGIN` torso lengths. A garbled frame (neither labelling within `FIT`) is passed on but
never becomes the reference. Without a reference (the start, or none within `MAX_GAP_S`) the
model's labels stand until two consecutive frames agree within `FIT`: the later one is the new
reference (a single frame after a gap may itself be garbled); a reference corrects only once
`MIN_STREAK` consecutive frames have fitted it, before that a clear disagreement restarts it
from the model's labels.

Ambiguous case: when neither labelling is clearly closer (limbs crossing or side by side in
the image, no previous frame, a gap in tracking) the model's labels stand. A correction that
has held for `MAX_HOLD_S` gives way to the model: a disagreement that long is more likely a
tracking mistake of ours (a crossing adopted the wrong way) than a swap of the model's.
When both pairs are exchanged on a frame (the model read the whole body the other way round)
the face's left/right landmarks are exchanged too.
"""

from dataclasses import dataclass

import numpy as np

from posetrack.components import PoseEstimate, PoseResult

PARTS: dict[str, tuple[str, ...]] = {
    "arms": ("shoulder", "elbow", "wrist", "pinky", "index", "thumb"),
    "legs": ("hip", "knee", "ankle", "heel", "foot_index"),
}
# the joints the decision looks at: the long bones' ends (fingers and toes follow the wrist
# and ankle and add only their noise)
_CORE = {"arms": ("shoulder", "elbow", "wrist"), "legs": ("hip", "knee", "ankle")}
# exchanged must cost under half of the model's labels: a clear preference, not noise
RATIO = 0.5
# ... and by over 0.15 torso lengths summed over the pair's six joints (~2.5 cm each): above
# the frame-to-frame jitter of a joint (< 0.02 torso lengths at 30-60 fps), below a real swap
# (one limb jumping onto the other: typically 0.5-2 torso lengths)
MARGIN = 0.15
# the longest swap run seen on the four-view clip is 25 frames at 60 fps (0.42 s): 1 s holds
# those and still hands a wrong lock back to the model within a second
MAX_HOLD_S = 1.0
# a previous pose older than this says little about where limbs are now (fast limbs move a
# torso length in ~0.25 s): the model's labels stand
MAX_GAP_S = 0.25
# a correction needs a reference confirmed by this many consecutive fitting frames: one made
# of two frames right after garbled ones may be the model's own mistake (Sports2D, frame 116)
MIN_STREAK = 3
# a frame whose best labelling is within this of the reference (torso lengths summed over the
# six joints) updates the reference; worse (a garbled frame: the model mid-flip, limbs smeared
# between sides) leaves the reference where it was. Normal motion between 30 fps frames is
# ~0.1-0.5; the garbled frames on the four-view clip are 2-4
FIT = 1.0


def pair_rows(names: tuple[str, ...], joints: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the left and right keypoints of `joints` that the model has (both sides)."""
    left, right = [], []
    for joint in joints:
        if f"left_{joint}" in names and f"right_{joint}" in names:
            left.append(names.index(f"left_{joint}"))
            right.append(names.index(f"right_{joint}"))
    return np.array(left, dtype=int), np.array(right, dtype=int)


def face_rows(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the face's left/right landmarks (eyes, ears, mouth corners)."""
    left, right = [], []
    for i, name in enumerate(names):
        other = name.replace("left", "right")
        if "left" in name and other in names and not any(p in name for p in _ALL_LIMB):
            left.append(i)
            right.append(names.index(other))
    return np.array(left, dtype=int), np.array(right, dtype=int)


_ALL_LIMB = tuple(j for part in PARTS.values() for j in part)


def exchange(pose: PoseEstimate, left: np.ndarray, right: np.ndarray) -> PoseEstimate:
    """A copy of `pose` with rows `left` and `right` exchanged (image keypoints and world)."""
    order = np.arange(len(pose.keypoints))
    order[left], order[right] = right, left
    keypoints = np.asarray(pose.keypoints)[order]
    world = None if pose.world is None else np.asarray(pose.world)[order]
    return PoseEstimate(keypoints, pose.score, world)


def swap_costs(
    now: np.ndarray, predicted: np.ndarray, left: np.ndarray, right: np.ndarray, scale: float
) -> tuple[float, float]:
    """(model's labels, exchanged) distance of `now` (K, 2) to `predicted` (K, 2) over the
    rows `left`/`right`, in units of `scale`."""
    keep = np.linalg.norm(now[left] - predicted[left], axis=1).sum()
    keep += np.linalg.norm(now[right] - predicted[right], axis=1).sum()
    swap = np.linalg.norm(now[left] - predicted[right], axis=1).sum()
    swap += np.linalg.norm(now[right] - predicted[left], axis=1).sum()
    return float(keep / scale), float(swap / scale)


@dataclass
class _Reference:
    time: float
    xy: np.ndarray  # (K, 2) corrected image keypoints of the last frame this pair fitted


class SwapGuard:
    """Corrects left/right swaps in a tracked person's stream (one person: the first pose of a
    single-pose result); see the module docstring for the rule. Small state per limb pair: the
    last frame whose labels fitted, and since when the pair has been held exchanged."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._core = {p: pair_rows(names, j) for p, j in _CORE.items()}
        self._rows = {p: pair_rows(names, j) for p, j in PARTS.items()}
        self._face = face_rows(names)
        hips, shoulders = pair_rows(names, ("hip",)), pair_rows(names, ("shoulder",))
        self._torso = (np.concatenate(shoulders), np.concatenate(hips))
        self._ref: dict[str, _Reference | None] = dict.fromkeys(PARTS)
        self._prev: _Reference | None = None  # the last frame, whether it fitted or not
        self._since: dict[str, float | None] = dict.fromkeys(PARTS)
        self._streak = dict.fromkeys(PARTS, 0)  # consecutive frames that fitted the reference
        self.corrected = dict.fromkeys(PARTS, 0)  # frames corrected so far, per pair

    def reset(self) -> None:
        """Forget the history (the person was lost, or the next frame is another picture)."""
        self._ref = dict.fromkeys(PARTS)
        self._prev = None
        self._since = dict.fromkeys(PARTS)
        self._streak = dict.fromkeys(PARTS, 0)

    def __call__(self, result: PoseResult) -> PoseResult:
        """`result` with its person's swapped limb pairs relabelled (itself when none)."""
        if len(result.poses) != 1 or not all(len(r[0]) for r in self._core.values()):
            self.reset()  # nobody, or several people without identities: nothing to follow
            return result
        pose = result.poses[0]
        xy = np.asarray(pose.keypoints, dtype=np.float64)[:, :2]
        scale = self._scale(xy)
        decided = {p: self._decide(p, result.time, xy, scale) for p in PARTS}
        done = [p for p, (swap, _) in decided.items() if swap]
        if done:
            left = np.concatenate([self._rows[p][0] for p in done])
            right = np.concatenate([self._rows[p][1] for p in done])
            if len(done) == len(PARTS):  # the whole body read the other way round
                left = np.concatenate([left, self._face[0]])
                right = np.concatenate([right, self._face[1]])
            pose = exchange(pose, left, right)
            result = PoseResult(result.frame, result.time, result.keypoint_names, [pose],
                                result.t_capture)  # fmt: skip
        corrected = np.asarray(pose.keypoints, dtype=np.float64)[:, :2]
        for part, (_, fits) in decided.items():
            if fits:  # a frame that fits one labelling well is the next frames' reference
                self._ref[part] = _Reference(result.time, corrected)
        self._prev = _Reference(result.time, corrected)
        return result

    def _decide(self, part: str, time: float, xy: np.ndarray, scale: float) -> tuple[bool, bool]:
        """(exchange `part`'s labels, this frame becomes the reference)."""
        ref, prev = self._ref[part], self._prev
        if ref is None or time - ref.time > MAX_GAP_S:
            # no trusted reference: the model's labels; two consecutive frames that agree
            # (a frame within FIT of the one before) make the next one
            self._since[part] = None
            self._streak[part] = 0
            if prev is None or time - prev.time > MAX_GAP_S:
                return False, False
            keep, _ = swap_costs(xy, prev.xy, *self._core[part], scale)
            self._streak[part] = 2 if keep < FIT else 0
            return False, keep < FIT
        keep, swap = swap_costs(xy, ref.xy, *self._core[part], scale)
        wanted = swap < RATIO * keep and keep - swap > MARGIN
        since = self._since[part]
        held_too_long = since is not None and time - since > MAX_HOLD_S
        if wanted and (self._streak[part] < MIN_STREAK or held_too_long):
            # a young reference (it may be the model's own mistake) or a correction held too
            # long: the model's labels, and this frame starts a new reference
            self._since[part] = None
            self._streak[part] = 1
            return False, True
        fits = (swap if wanted else keep) < FIT
        if fits:
            self._streak[part] += 1
        self._since[part] = (since if since is not None else time) if wanted else None
        if wanted:
            self.corrected[part] += 1
        return wanted, fits

    def _scale(self, xy: np.ndarray) -> float:
        """The torso length in pixels (shoulder centre to hip centre)."""
        shoulders, hips = self._torso
        length = np.linalg.norm(xy[shoulders].mean(axis=0) - xy[hips].mean(axis=0))
        return float(max(length, 1.0))
