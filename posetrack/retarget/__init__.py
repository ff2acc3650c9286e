"""Retargeting: tracked keypoints -> local joint rotations of any humanoid rig (numpy only).

`Retargeter(RestPose.from_skeleton(skeleton), RetargetConfig()).solve(names, confidence,
world=..., image=...)` returns a `RetargetResult` (per-bone local quaternions (w, x, y, z), root
rotation and position) each frame; `lost()` on frames with no person. Conventions: axes.py.
"""

from posetrack.retarget.gating import GateConfig
from posetrack.retarget.rest import RestPose, forward_kinematics
from posetrack.retarget.solve import (
    RetargetConfig,
    Retargeter,
    RetargetResult,
    character_keypoints,
)

__all__ = [
    "GateConfig",
    "RestPose",
    "RetargetConfig",
    "RetargetResult",
    "Retargeter",
    "character_keypoints",
    "forward_kinematics",
]
