"""One Euro filter (Casiry et al. 2012) over arrays, with MediaPipe's exact semantics.

MediaPipe's LandmarksSmoothingCalculator (one_euro_filter) is what we reproduce: the derivative
is scaled by `value_scale` (1 / object size, so the speed threshold is in object sizes per
second), the frequency follows the timestamps, and a timestamp that does not advance past the
last one (which starts at 0) passes the value through without touching the state.
"""

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OneEuroFilter:
    min_cutoff: float  # Hz: the cut-off at rest; lower = smoother when still
    beta: float  # how fast the cut-off grows with speed; higher = less lag when moving
    derivate_cutoff: float = 1.0  # Hz: cut-off of the speed estimate
    frequency: float = 30.0  # Hz: assumed until two timestamps give the real one
    _last_time: float = field(default=0.0, repr=False)
    _raw: np.ndarray | None = field(default=None, repr=False)
    _value: np.ndarray | None = field(default=None, repr=False)
    _speed: np.ndarray | None = field(default=None, repr=False)

    def __call__(self, time_s: float, value: np.ndarray, value_scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if time_s <= self._last_time:
            return value
        if self._last_time != 0.0:
            self.frequency = 1.0 / (time_s - self._last_time)
        self._last_time = time_s
        if self._raw is None or self._raw.shape != value.shape:
            self._raw, self._value = value, value
            self._speed = np.zeros_like(value)
            return value
        speed = (value - self._raw) * value_scale * self.frequency
        self._speed = _blend(self._speed, speed, self._alpha(self.derivate_cutoff))
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        self._raw = value
        self._value = _blend(self._value, value, self._alpha(cutoff))
        return self._value

    def reset(self) -> None:
        self._last_time = 0.0
        self._raw = self._value = self._speed = None

    def _alpha(self, cutoff: float | np.ndarray) -> float | np.ndarray:
        tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
        return 1.0 / (1.0 + tau * self.frequency)


def _blend(previous: np.ndarray, value: np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    return alpha * value + (1.0 - alpha) * previous
