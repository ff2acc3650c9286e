"""panda3d-posetrack: webcam pose tracking as an ECS plugin for Panda3D."""

from posetrack.errors import ModelError, PosetrackError, SourceError, UnsupportedModelError

__all__ = ["ModelError", "PosetrackError", "SourceError", "UnsupportedModelError"]
__version__ = "0.1.0"
