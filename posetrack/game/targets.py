"""The demo game's rules: targets to touch with hands or feet, score, round timer.

Pure Python + numpy, no Panda3D: the app feeds it the time and the character's hand and foot
joint positions each frame. Positions are in the character's own space (the mannequin's: metres,
Z up, X to the viewer's right, facing -Y), so the rules hold whatever the camera or the scale.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

HANDS = ("left_hand", "right_hand")
FEET = ("left_foot", "right_foot")
EFFECTORS = HANDS + FEET


@dataclass
class Rules:
    """How a round plays; every field is a plain value a scene file can set."""

    round_s: float = 60.0  # one round: long enough to warm up, short enough to replay
    # 0.15 m: about a hand's length; the touch test is on the joint (wrist/ankle), so this
    # forgives the hand itself plus a few cm of tracking jitter
    radius: float = 0.15
    max_targets: int = 3  # on screen at once: enough to choose, few enough to read at a glance
    spawn_every_s: float = 1.2  # a new target this often while below max_targets
    lifetime_s: float = 5.0  # an untouched target disappears (a miss) after this long
    foot_share: float = 0.3  # fraction of targets meant for the feet (harder, so fewer)
    points: int = 10  # per touch
    quick_bonus: int = 5  # extra for a touch in the first third of the target's life
    # touch distance in the frontal (XZ) plane only: monocular depth is the noisiest axis of
    # the world landmarks, a target the player "hits" on screen must count
    frontal_only: bool = True
    # people playing at once, each with a character, targets and score of their own (the
    # demo's `--players`); each player's TargetGame plays the same rules
    players: int = 1


@dataclass(frozen=True)
class Reach:
    """Where the character can reach, at rest, in its own space (from its skeleton)."""

    left_shoulder: np.ndarray
    right_shoulder: np.ndarray
    left_hip: np.ndarray
    right_hip: np.ndarray
    arm_length: float  # shoulder to wrist
    leg_length: float  # hip to ankle

    @classmethod
    def from_positions(cls, rest: Mapping[str, np.ndarray]) -> "Reach":
        """From canonical-bone rest positions (Skeleton.rest_positions)."""
        p = {k: np.asarray(v, dtype=np.float64) for k, v in rest.items()}
        arm = np.linalg.norm(p["leftHand"] - p["leftUpperArm"])
        leg = np.linalg.norm(p["leftFoot"] - p["leftUpperLeg"])
        return cls(p["leftUpperArm"], p["rightUpperArm"], p["leftUpperLeg"], p["rightUpperLeg"],
                   float(arm), float(leg))  # fmt: skip


@dataclass
class Target:
    """One target: where, which effectors may touch it, when it came and when it goes."""

    id: int
    position: np.ndarray  # (3,) character space
    effectors: tuple[str, ...]  # HANDS or FEET
    born: float
    expires: float

    @property
    def kind(self) -> str:
        """Which limbs it is for: "hand" or "foot"."""
        return "foot" if self.effectors == FEET else "hand"


@dataclass
class Touch:
    """A target touched: by which effector, when, for how many points."""

    target: Target
    effector: str
    time: float
    points: int


@dataclass
class RoundState:
    """Score and counts of the current round."""

    started: float = 0.0
    score: int = 0
    touches: int = 0
    misses: int = 0
    over: bool = False
    targets: list[Target] = field(default_factory=list)


class TargetGame:
    """Targets appear within the character's reach; touching one scores; a round ends on time.

    Call `start(now)`, then `update(now, effectors)` every frame with the effector positions
    (any of EFFECTORS; a missing one, e.g. a lost limb, touches nothing). `now` is the game's
    clock in seconds (a fixed step in the headless mode, so runs repeat exactly).
    """

    def __init__(self, reach: Reach, rules: Rules | None = None, seed: int = 0) -> None:
        self.reach = reach
        self.rules = rules or Rules()
        self._seed = seed
        self.state = RoundState()
        self._rng = np.random.default_rng(seed)
        self._next_id = 0
        self._next_spawn = 0.0

    def start(self, now: float) -> None:
        """A fresh round from `now` (same seed: the same targets in the same order)."""
        self.state = RoundState(started=now)
        self._rng = np.random.default_rng(self._seed)
        self._next_spawn = now

    def time_left(self, now: float) -> float:
        """Seconds left in the round (0 once over)."""
        return max(0.0, self.state.started + self.rules.round_s - now)

    def update(self, now: float, effectors: Mapping[str, np.ndarray | None]) -> list[Touch]:
        """Advance to `now`: touches, expiries, spawns, the end of the round. Returns touches."""
        state = self.state
        if state.over:
            return []
        # touches first: a target touched on the frame it would expire still counts
        touches = [t for t in (self._touched(target, now, effectors) for target in state.targets)
                   if t is not None]  # fmt: skip
        for touch in touches:
            state.targets.remove(touch.target)
            state.score += touch.points
            state.touches += 1
        # expiries
        expired = [t for t in state.targets if now >= t.expires]
        state.misses += len(expired)
        state.targets = [t for t in state.targets if now < t.expires]
        # the end of the round
        if self.time_left(now) <= 0.0:
            state.over = True
            state.targets = []
            return touches
        # spawns
        while now >= self._next_spawn:
            if len(state.targets) < self.rules.max_targets:
                state.targets.append(self._spawn(now))
            self._next_spawn += self.rules.spawn_every_s
        return touches

    def _touched(
        self, target: Target, now: float, effectors: Mapping[str, np.ndarray | None]
    ) -> Touch | None:
        best: tuple[float, str] | None = None
        for name in target.effectors:
            pos = effectors.get(name)
            if pos is None:
                continue
            gap = np.asarray(pos, dtype=np.float64) - target.position
            if self.rules.frontal_only:
                gap = gap[[0, 2]]
            distance = float(np.linalg.norm(gap))
            if distance <= self.rules.radius and (best is None or distance < best[0]):
                best = (distance, name)
        if best is None:
            return None
        quick = now - target.born <= (target.expires - target.born) / 3.0
        points = self.rules.points + (self.rules.quick_bonus if quick else 0)
        return Touch(target, best[1], now, points)

    def _spawn(self, now: float) -> Target:
        """A target somewhere a hand or foot can reach, clear of the ones already there."""
        foot = self._rng.random() < self.rules.foot_share
        for _ in range(8):  # a few tries for a spot not overlapping another target
            position = self._foot_spot() if foot else self._hand_spot()
            if all(np.linalg.norm(position - t.position) > 3 * self.rules.radius
                   for t in self.state.targets):  # fmt: skip
                break
        self._next_id += 1
        return Target(self._next_id, position, FEET if foot else HANDS, now,
                      now + self.rules.lifetime_s)  # fmt: skip

    def _hand_spot(self) -> np.ndarray:
        # around one shoulder, from out to the side to overhead (-20..110 deg above the
        # horizontal, away from the body), at 70-95% of arm's length: reachable, not trivial
        r = self.reach
        left = self._rng.random() < 0.5
        shoulder = r.left_shoulder if left else r.right_shoulder
        angle = np.radians(self._rng.uniform(-20.0, 110.0))
        reach = r.arm_length * self._rng.uniform(0.7, 0.95)
        side = 1.0 if left else -1.0
        x = shoulder[0] + side * reach * np.cos(angle)
        z = shoulder[2] + reach * np.sin(angle)
        return np.array([x, shoulder[1], z])

    def _foot_spot(self) -> np.ndarray:
        # a kick out to the side: 25-55 deg from straight down, at 90% of leg length
        r = self.reach
        left = self._rng.random() < 0.5
        hip = r.left_hip if left else r.right_hip
        angle = np.radians(self._rng.uniform(25.0, 55.0))
        side = 1.0 if left else -1.0
        reach = 0.9 * r.leg_length
        return np.array([hip[0] + side * reach * np.sin(angle), hip[1],
                         hip[2] - reach * np.cos(angle)])  # fmt: skip
