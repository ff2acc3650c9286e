from dataclasses import dataclass, field
from typing import Literal

from posetrack.components.roi import RegionOfInterest

Backend = Literal["auto", "gpu", "cpu"]
Device = Literal["auto", "cpu", "cuda"]
# What the tracker is doing: "starting" (no frame yet), "tracking" (a pose on the newest frame),
# "no_person" (nobody in view), "lost" (a stage failed on the newest frame: no pose given),
# "ended" (the source will give no more frames: end of a clip, camera unplugged).
StatusState = Literal["starting", "tracking", "no_person", "lost", "ended"]


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


@dataclass
class TrackingStatus:
    """How tracking went on the newest frame, and why not when it did not.

    Written on the tracker entity by PoseTrackingSystem. When a stage fails at run time (camera
    unplugged, inference error, NaN outputs) the host keeps running: `state` says "lost" (or
    "ended" for the source), `stage` names the stage, `reason` is one line, and that frame's
    PoseResult has no poses. The next good frame sets it back to "tracking".
    """

    state: StatusState = "starting"
    reason: str = ""  # one line: why lost or ended; empty while tracking
    stage: str = ""  # the stage that failed ("capture", "detect", "inference", ...), or ""
    frame: int = -1  # the CameraFrame.index this status is about
    lost_frames: int = 0  # frames given up on because a stage failed, since the start
