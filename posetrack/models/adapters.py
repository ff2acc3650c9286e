"""The model adapter for a zoo name: BlazePose, PoseNet or MoveNet (models/pose_model.py says
what an adapter does)."""

from posetrack.errors import PosetrackError
from posetrack.models import zoo
from posetrack.models.blazepose import BlazePose
from posetrack.models.movenet import MoveNet
from posetrack.models.pose_model import PoseModel
from posetrack.models.posenet import PoseNet


def load_pose_model(name: str, max_poses: int = 1) -> PoseModel:
    """The adapter for a model name from posetrack.models.zoo."""
    spec = zoo.spec(name)
    if not spec.keypoints:
        raise PosetrackError(f"{name} is not a pose model: pick one with keypoints")
    if name.startswith("blazepose"):
        return BlazePose(name, spec.keypoints)
    if name == "posenet":
        return PoseNet(name, spec.keypoints, spec.input_shape, max_poses)
    return MoveNet(name, spec.keypoints, spec.input_shape, max_poses)
