"""PoseNet (MobileNetV1, stride 16) as a PoseModel: letterboxed frame in, heatmap decode out.

Outputs (TFJS names): heatmap logits [1,25,25,17], offsets [1,25,25,34] (y block, x block),
forward / backward displacements [1,25,25,32]. One pose: argmax + offset per part (the
max-pool reduction on the GPU path). Several: TF.js's multi-person decode, whose local-maxima
candidate search runs on the GPU path and whose short candidate list is finished on the CPU.
"""

import numpy as np

from posetrack.components import ModelInput, PoseEstimate
from posetrack.models.pose_model import FullFrameModel
from posetrack.models.posenet_decode import decode_multiple
from posetrack.stages.decode_cpu import HeatmapOps, sigmoid
from posetrack.stages.geometry import apply_affine

OUTPUT_STRIDE = 16  # this PoseNet's stride: heatmap side = (385 - 1) / 16 + 1 = 25
ROOT_SCORE = 0.5  # TF.js decodeMultiplePoses scoreThreshold default: a root part's minimum
NMS_RADIUS = 20.0  # TF.js nmsRadius default, in model-input pixels
MIN_POSE_SCORE = 0.15  # TF.js posenet demo's minPoseConfidence: weaker poses are noise


def posenet_output(outputs: dict[str, np.ndarray], part: str) -> np.ndarray:
    return next(v for k, v in outputs.items() if f"/{part}_" in k)[0]


class PoseNet(FullFrameModel):
    value_range = (-1.0, 1.0)  # RGB / 127.5 - 1, measured against MoveNet (docs)

    def decode(
        self, outputs: dict[str, np.ndarray], model_input: ModelInput, ops: HeatmapOps
    ) -> tuple[list[PoseEstimate], np.ndarray | None]:
        logits = posenet_output(outputs, "heatmap")
        offsets = posenet_output(outputs, "offset")
        if self.max_poses == 1:
            keypoints = ops.posenet(logits, offsets, OUTPUT_STRIDE)
            found = [(float(keypoints[:, 2].mean()), keypoints)]
        else:
            scores = sigmoid(logits).astype(np.float32)
            candidates = ops.local_maxima(scores, ROOT_SCORE)
            found = decode_multiple(
                scores, offsets, posenet_output(outputs, "displacement_fwd"),
                posenet_output(outputs, "displacement_bwd"), OUTPUT_STRIDE, self.max_poses,
                ROOT_SCORE, NMS_RADIUS, candidates,
            )  # fmt: skip
        poses = []
        for score, keypoints in found:
            if score < MIN_POSE_SCORE:
                continue
            source = apply_affine(model_input.crop_to_source, keypoints[:, :2])
            poses.append(PoseEstimate(np.hstack([source, keypoints[:, 2:3]]), score))
        return poses, None
