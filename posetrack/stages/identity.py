"""Who is who across frames: each detected pose is given to a player slot (1, 2, ...).

A multi-person model answers every frame afresh, best pose first, so the order of its poses
swaps whenever the scores do: a game would hand player 1's character to player 2. This stage
keeps an `IdentityState` (one `Track` per slot) and, per frame:

1. predicts each live slot's torso centre at a constant velocity (coasting at most
   EXTRAPOLATE_S ahead);
2. scores every (slot, pose) pair: distance from the prediction in torso lengths, plus the
   change of torso size, plus the change of keypoint geometry (the pose's shape relative to its
   own torso; no appearance); pairs beyond the gate cannot match;
3. picks the assignment with the lowest total cost (exact: every permutation, a handful of
   slots);
4. updates matched slots; a slot whose person is not seen keeps its place for COAST_S (the
   person may be hidden behind the other, or step out for a moment), then frees;
5. a pose no slot took is a new person: it takes the lowest free slot (several new ones: from
   left to right in the image), unless it sits on a pose already taken (a duplicate).

So on the first frame the leftmost person is player 1, and keeps that number while seen (or
gone for less than COAST_S). Pure numpy; `assign_players` is the whole stage.
"""

import itertools
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np

from posetrack.components import PoseEstimate, PoseResult

TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")  # COCO-17 and BlazePose
# a keypoint counts at this confidence: the models' own drawing threshold is 0.3-0.5; below
# 0.3 MoveNet's joints on an occluded limb wander, and would move the torso centre with them
MIN_CONFIDENCE = 0.3
# a standing body is about three torso lengths tall (shoulders to hips ~0.5 m of ~1.7 m):
# the torso length of a pose whose shoulders or hips are not seen
BODY_TORSO_RATIO = 3.0
COAST_S = 1.0  # a lost person keeps their slot this long: "leaves the view for a second"
# prediction runs ahead at most this long: a straight line fits a walk for a few hundred ms,
# not for a whole second of coasting (the gate below grows instead)
EXTRAPOLATE_S = 0.25
# gate, torso lengths from the prediction: 1.0 covers a fast step between two 15 fps frames
# (~0.3 m at 4.5 m/s); a hidden person may reappear further off: +2 torso lengths per second
GATE = 1.0
GATE_PER_S = 2.0
SIZE_WEIGHT = 2.0  # |log size ratio|: 20% larger or smaller costs ~0.36, a third of the gate
SHAPE_WEIGHT = 0.5  # mean keypoint offset, torso lengths: a different pose costs ~0.5-1
# velocity: an average over about this long (EMA weight of the old value exp(-dt / tau)): a
# torso centre jitters by a few px per frame, and slides while a body is being occluded (its
# visible keypoints shift), so a one-frame velocity would throw a hidden person's prediction
# far off; 0.15 s still follows a walk that turns within half a second
VELOCITY_S = 0.15
SHAPE_KEEP = 0.7  # EMA weight of the old size and shape: a limb's one-frame jump fades out
DUPLICATE = 0.5  # a new pose this close (torso lengths) to a taken one is the same person
_UNMATCHED = 1e6  # the cost of leaving a slot without a pose (any gated pair beats it)
MAX_EXACT = 7  # up to 7 x 7: 5040 permutations, ~1 ms in numpy; more: greedy


@dataclass
class Body:
    """What a pose looks like to the tracker: torso centre and length (px), shape."""

    centre: np.ndarray  # (2,) px
    size: float  # torso length, px
    shape: np.ndarray  # K x 2: keypoints relative to the centre, in torso lengths; NaN unseen


@dataclass
class Track:
    """One player slot's person."""

    body: Body
    velocity: np.ndarray  # (2,) px per second
    seen: float  # source time (s) the person was last seen


@dataclass
class IdentityState:
    """The slots (index 0 = player 1); None: free. `time`: the last frame's source time."""

    slots: int
    tracks: list[Track | None] = field(default_factory=list)
    time: float | None = None

    def __post_init__(self) -> None:
        self.tracks = (self.tracks + [None] * self.slots)[: self.slots]


def body_of(pose: PoseEstimate, names: tuple[str, ...]) -> Body | None:
    """The torso centre, torso length and shape of a pose; None if too little of it is seen."""
    points = np.asarray(pose.keypoints, dtype=np.float64)
    seen = np.isfinite(points).all(axis=1) & (points[:, 2] >= MIN_CONFIDENCE)
    if seen.sum() < 2:
        return None
    xy = points[:, :2]
    index = {name: i for i, name in enumerate(names)}
    torso = [index[n] for n in TORSO if n in index and seen[index[n]]]
    centre = xy[torso].mean(axis=0) if len(torso) >= 2 else xy[seen].mean(axis=0)
    shoulders = [index[n] for n in TORSO[:2] if n in index and seen[index[n]]]
    hips = [index[n] for n in TORSO[2:] if n in index and seen[index[n]]]
    if shoulders and hips:
        size = float(np.linalg.norm(xy[shoulders].mean(axis=0) - xy[hips].mean(axis=0)))
    else:
        size = float(np.ptp(xy[seen, 1])) / BODY_TORSO_RATIO
    if not size > 1.0:  # a degenerate pose (every point on one pixel row)
        return None
    shape = np.where(seen[:, None], (xy - centre) / size, np.nan)
    return Body(centre, size, shape)


def predict(track: Track, time: float) -> np.ndarray:
    """Where the slot's torso centre should be at `time` (constant velocity, capped)."""
    ahead = min(max(time - track.seen, 0.0), EXTRAPOLATE_S)
    return track.body.centre + track.velocity * ahead


def cost(track: Track, body: Body, time: float) -> float:
    """The cost of giving `body` to `track` at `time`, or inf beyond the gate."""
    size = track.body.size
    distance = float(np.linalg.norm(body.centre - predict(track, time))) / size
    if distance > GATE + GATE_PER_S * max(time - track.seen, 0.0):
        return float("inf")
    both = np.isfinite(track.body.shape).all(axis=1) & np.isfinite(body.shape).all(axis=1)
    shape = (
        float(np.linalg.norm(track.body.shape[both] - body.shape[both], axis=1).mean())
        if both.any()
        else 0.0
    )
    return distance + SIZE_WEIGHT * abs(np.log(body.size / size)) + SHAPE_WEIGHT * shape


@cache
def _permutations(n: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n))), dtype=np.intp).reshape(-1, n)


def best_assignment(costs: np.ndarray) -> list[tuple[int, int]]:
    """(row, column) pairs of finite cost with the lowest total, as many as the gates allow."""
    rows, cols = costs.shape
    n = max(rows, cols)
    if n == 0:
        return []
    square = np.full((n, n), _UNMATCHED)
    square[:rows, :cols] = np.where(np.isfinite(costs), costs, _UNMATCHED)
    if n <= MAX_EXACT:
        perms = _permutations(n)
        best = perms[np.argmin(square[np.arange(n), perms].sum(axis=1))]
        pairs = list(enumerate(best.tolist()))
    else:  # many people: cheapest pair first
        pairs, used_r, used_c = [], set(), set()
        for flat in np.argsort(square, axis=None):
            r, c = divmod(int(flat), n)
            if r not in used_r and c not in used_c:
                pairs.append((r, c))
                used_r.add(r)
                used_c.add(c)
    return [(r, c) for r, c in pairs if r < rows and c < cols and np.isfinite(costs[r, c])]


def _follow(track: Track, body: Body, time: float) -> Track:
    dt = time - track.seen
    velocity = track.velocity
    if dt > 0:
        step = (body.centre - track.body.centre) / dt
        keep = float(np.exp(-dt / VELOCITY_S))
        velocity = keep * track.velocity + (1 - keep) * step
    old = track.body
    size = SHAPE_KEEP * old.size + (1 - SHAPE_KEEP) * body.size
    shape = np.where(
        np.isfinite(old.shape) & np.isfinite(body.shape),
        SHAPE_KEEP * old.shape + (1 - SHAPE_KEEP) * body.shape,
        np.where(np.isfinite(body.shape), body.shape, old.shape),
    )
    return Track(Body(body.centre, size, shape), velocity, time)


def assign_players(state: IdentityState, result: PoseResult) -> PoseResult:
    """`result` with its poses given to player slots: ordered by player, each with `player`
    set (1-based); poses no slot takes are left out. Updates `state` (see the module)."""
    time = result.time
    if state.time is not None and not time > state.time:  # time went back: another clip
        state.tracks = [None] * state.slots
    state.time = time
    # 4. a slot unseen for longer than COAST_S is free again
    state.tracks = [t if t is not None and time - t.seen <= COAST_S else None
                    for t in state.tracks]  # fmt: skip
    bodies = [body_of(p, result.keypoint_names) for p in result.poses]
    usable = [i for i, b in enumerate(bodies) if b is not None]
    live = [s for s, t in enumerate(state.tracks) if t is not None]
    # 1-3. the cheapest assignment of poses to the live slots
    costs = np.array([[cost(state.tracks[s], bodies[i], time) for i in usable] for s in live])
    taken: dict[int, int] = {}  # pose index -> slot
    for r, c in best_assignment(costs.reshape(len(live), len(usable))):
        taken[usable[c]] = live[r]
        state.tracks[live[r]] = _follow(state.tracks[live[r]], bodies[usable[c]], time)
    # 5. new people: free slots, lowest first, filled from left to right
    free = [s for s, t in enumerate(state.tracks) if t is None]
    fresh = sorted((i for i in usable if i not in taken), key=lambda i: bodies[i].centre[0])
    for i in fresh:
        body = bodies[i]
        if not free or any(
            np.linalg.norm(body.centre - bodies[j].centre) < DUPLICATE * bodies[j].size
            for j in taken
        ):
            continue
        slot = free.pop(0)
        taken[i] = slot
        state.tracks[slot] = Track(body, np.zeros(2), time)
    poses = [replace(result.poses[i], player=slot + 1)
             for i, slot in sorted(taken.items(), key=lambda item: item[1])]  # fmt: skip
    return replace(result, poses=poses)
