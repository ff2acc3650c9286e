"""panda3d-posetrack: webcam pose tracking as an ECS plugin for Panda3D.

    import posetrack
    tracking = posetrack.init(base, source="webcam:0")  # a PoseTrackingSystem in your world

The public API: `init`, `TrackingConfig`, `PoseTrackingSystem`, the components a game reads
(`PoseResult`, `PoseEstimate`, `TrackingStatus`) and the errors. The pipeline's modules
(Panda3D, ONNX Runtime, OpenCV) load on first use of these names, so `import posetrack` and the
command line stay light.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from posetrack.errors import ModelError, PosetrackError, SourceError, UnsupportedModelError

if TYPE_CHECKING:
    from posetrack.components.pose import PoseEstimate, PoseResult
    from posetrack.components.tracker import TrackingConfig, TrackingStatus
    from posetrack.plugin.attach import init
    from posetrack.systems.pose_tracking import PoseTrackingSystem

__all__ = [
    "ModelError",
    "PoseEstimate",
    "PoseResult",
    "PoseTrackingSystem",
    "PosetrackError",
    "SourceError",
    "TrackingConfig",
    "TrackingStatus",
    "UnsupportedModelError",
    "init",
]
__version__ = "0.1.0"

# name -> module that defines it, imported when the name is first used
_LAZY = {
    "init": "posetrack.plugin.attach",
    "TrackingConfig": "posetrack.components.tracker",
    "PoseTrackingSystem": "posetrack.systems.pose_tracking",
    "PoseEstimate": "posetrack.components.pose",
    "PoseResult": "posetrack.components.pose",
    "TrackingStatus": "posetrack.components.tracker",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'posetrack' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
