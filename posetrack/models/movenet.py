"""MoveNet (lightning, thunder, multipose) as a PoseModel: the decode is inside the graph.

Single pose: `Identity` [1,1,17,3] = (y, x, score), y and x in [0, 1] of the input. Multipose:
`Identity` [1,6,56] = 6 people x (17 x (y, x, score), ymin, xmin, ymax, xmax, box score).
"""

import numpy as np

from posetrack.components import ModelInput, PoseEstimate
from posetrack.models.pose_model import FullFrameModel
from posetrack.stages.decode_cpu import HeatmapOps
from posetrack.stages.geometry import apply_affine

MIN_POSE_SCORE = 0.25  # tfjs-models pose-detection MoveNet minPoseScore default


class MoveNet(FullFrameModel):
    value_range = (0.0, 255.0)  # whole RGB values, as int32
    dtype = "int32"

    def decode(
        self, outputs: dict[str, np.ndarray], model_input: ModelInput, ops: HeatmapOps
    ) -> tuple[list[PoseEstimate], np.ndarray | None]:
        raw = np.asarray(outputs["Identity"], dtype=np.float64)
        parts = len(self.keypoint_names)
        if raw.ndim == 4:  # single pose: score = mean keypoint score, as tfjs-models does
            people = [(float(raw[0, 0, :, 2].mean()), raw[0, 0])]
        else:
            people = [(float(p[parts * 3 + 4]), p[: parts * 3].reshape(parts, 3)) for p in raw[0]]
        people.sort(key=lambda p: -p[0])
        poses = []
        for score, yxs in people[: self.max_poses]:
            if score < MIN_POSE_SCORE:
                continue
            crop_xy = yxs[:, [1, 0]] * self.size
            source = apply_affine(model_input.crop_to_source, crop_xy)
            poses.append(PoseEstimate(np.hstack([source, yxs[:, 2:3]]), score))
        return poses, None
