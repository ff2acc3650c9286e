"""Confidence gating: a bone that loses its keypoints holds, then relaxes to rest.

`Gate` keeps one value per name (the sprite's bone directions, the root position); `BoneGate`
keeps the rotations of a whole rig as arrays, one row per bone, for the 3D solver.
"""

from dataclasses import dataclass, field

import numpy as np

from posetrack.retarget import quat


@dataclass
class GateConfig:
    """How an unobserved bone (or the whole lost body) behaves."""

    # BlazePose visibility and COCO keypoint scores are probabilities; MediaPipe's own drawing
    # utility hides landmarks below 0.5, so that is where a keypoint stops being trusted.
    threshold: float = 0.5
    # 6 frames = 0.2 s at 30 fps: rides out a blink of occlusion (a hand crossing the face)
    # without a visible freeze when the limb is really gone.
    hold_frames: int = 6
    # 15 frames = 0.5 s at 30 fps to ease back to rest: slow enough not to snap, quick enough
    # that a limb out of frame does not hang in the air.
    relax_frames: int = 15


@dataclass
class _Held:
    value: np.ndarray  # last observed value (quaternion or position)
    lost_frames: int = 0


@dataclass
class Gate:
    """Per-bone hold/relax state for one tracked person (one instance per character)."""

    config: GateConfig = field(default_factory=GateConfig)
    _held: dict[str, _Held] = field(default_factory=dict)

    def observed(self, key: str, value: np.ndarray) -> np.ndarray:
        """Record a fresh target for `key` and return it."""
        self._held[key] = _Held(np.array(value, dtype=np.float64))
        return value

    def missing_rotation(self, key: str, rest: np.ndarray) -> np.ndarray:
        """Target for a rotation that has no observation this frame."""
        t = self._relax_fraction(key)
        return rest if t is None else quat.slerp(self._held[key].value, rest, t)

    def missing_position(self, key: str, rest: np.ndarray) -> np.ndarray:
        """Target for a position that has no observation this frame."""
        t = self._relax_fraction(key)
        return rest if t is None else (1 - t) * self._held[key].value + t * rest

    def _relax_fraction(self, key: str) -> float | None:
        """0 while holding, rising to 1 over relax_frames; None when nothing was ever seen."""
        held = self._held.get(key)
        if held is None:
            return None
        held.lost_frames += 1
        over = held.lost_frames - self.config.hold_frames
        if over <= 0:
            return 0.0
        return min(1.0, over / max(1, self.config.relax_frames))


@dataclass
class BoneGate:
    """Hold/relax state of a rig's bone rotations, one row per bone: `Gate`'s rules as arrays."""

    config: GateConfig
    held: np.ndarray  # (n, 4) last observed rotation of each bone
    seen: np.ndarray  # (n,) bool: observed at least once
    lost_frames: np.ndarray  # (n,) frames since each bone was last observed

    @classmethod
    def empty(cls, config: GateConfig, bones: int) -> "BoneGate":
        """Nothing seen yet (held rows are identities, so easing them stays finite)."""
        held = np.tile(quat.identity(), (bones, 1))
        return cls(config, held, np.zeros(bones, bool), np.zeros(bones, np.int64))

    def observed(self, mask: np.ndarray, values: np.ndarray) -> None:
        """Record fresh rotations for the bones in `mask` (rows of `values`)."""
        self.held[mask] = values[mask]
        self.seen[mask] = True
        self.lost_frames[mask] = 0

    def missing(self, mask: np.ndarray, rest: np.ndarray) -> np.ndarray:
        """Targets (n, 4): the bones in `mask` have no observation this frame and hold, then
        ease toward `rest` (rows never seen go straight to rest); other rows are `rest`."""
        easing = mask & self.seen
        self.lost_frames[easing] += 1
        over = self.lost_frames - self.config.hold_frames
        t = np.where(over <= 0, 0.0, np.minimum(1.0, over / max(1, self.config.relax_frames)))
        return np.where(easing[:, None], quat.slerp(self.held, rest, t), rest)
