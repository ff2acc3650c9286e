from dataclasses import dataclass, field

import numpy as np


@dataclass
class PoseEstimate:
    """One person's pose in source pixels (origin top-left, y down)."""

    keypoints: np.ndarray  # K x 3 float: x_px, y_px, confidence in [0, 1]
    score: float  # whole-pose confidence in [0, 1]
    world: np.ndarray | None = None  # K x 3 metres, hip-centred, or None when the model has none
    # the player slot (1, 2, ...) the identity stage gave this person (stages/identity.py);
    # None when no identity stage ran (one-person models, max_poses = 1)
    player: int | None = None


@dataclass
class PoseResult:
    """All poses found on one frame; an empty list means no person in view."""

    frame: int
    time: float
    keypoint_names: tuple[str, ...]
    poses: list[PoseEstimate] = field(default_factory=list)
    t_capture: float = 0.0  # perf_counter() of the frame these poses came from
