"""Plain dataclasses that the systems read and write: data only, no behaviour."""

from posetrack.components.frame import CameraFrame, EndOfStream
from posetrack.components.model_io import ModelInput, ModelOutputs
from posetrack.components.pose import PoseEstimate, PoseResult
from posetrack.components.roi import RegionOfInterest
from posetrack.components.tracker import (
    StageTimes,
    TrackingConfig,
    TrackingState,
    TrackingStatus,
)

__all__ = [
    "CameraFrame",
    "EndOfStream",
    "ModelInput",
    "ModelOutputs",
    "PoseEstimate",
    "PoseResult",
    "RegionOfInterest",
    "StageTimes",
    "TrackingConfig",
    "TrackingState",
    "TrackingStatus",
]
