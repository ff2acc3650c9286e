from dataclasses import dataclass, field
from typing import Literal

from posetrack.components.roi import RegionOfInterest

Backend = Literal["auto", "gpu", "cpu"]
Device = Literal["auto", "cpu", "cuda"]


@dataclass
class TrackerConfig:
    """What to track with; the entity holding it is the tracker."""

    model: str = "blazepose-full"
    device: Device = "auto"
    preprocess: Backend = "auto"
    decode: Backend = "auto"
    smooth: bool = True


@dataclass
class TrackingState:
    """Carried between frames: the ROI predicted from the last landmarks, if tracking holds."""

    next_roi: RegionOfInterest | None = None
    last_frame: int = -1  # CameraFrame.index of the newest frame the pipeline started on


@dataclass
class StageTimes:
    """What each stage cost on the newest frame, by stage name: milliseconds, and the bytes it
    sent to the GPU (up) and read back from it (down); the CPU path moves none."""

    ms: dict[str, float] = field(default_factory=dict)
    bytes_up: dict[str, int] = field(default_factory=dict)
    bytes_down: dict[str, int] = field(default_factory=dict)
