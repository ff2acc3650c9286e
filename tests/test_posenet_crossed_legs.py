"""Why a quick PoseNet decode of messi5.jpg draws the legs crossed: the model, not the decode.

Single-person decoding takes each part's heatmap maximum. On this photo PoseNet's *left knee*
heatmap peaks on the right knee (and the left ankle's on the right ankle), so the left leg is
drawn from the left hip to the right knee: crossed. The decode is exact (argmax * stride +
offset, same on both paths); TF.js's multi-person decode, which walks the part tree with the
displacement fields, finds the real left knee, where BlazePose (an independent model) puts it.
"""

import numpy as np
import pytest

from posetrack.components import ModelInput
from posetrack.downloads.samples import sample_path
from posetrack.models import zoo
from posetrack.models.adapters import load_pose_model
from posetrack.models.posenet import OUTPUT_STRIDE, posenet_output
from posetrack.models.runtime import OrtModel
from posetrack.models.skeletons import COCO_17
from posetrack.stages.crop_cpu import crop_tensor
from posetrack.stages.decode_cpu import CpuHeatmapOps, argmax_heatmaps
from posetrack.stages.geometry import apply_affine, full_frame_roi

BLAZEPOSE_LEFT_KNEE = (340.6, 246.0)  # `posetrack track sample:messi5.jpg` (BlazePose full)


@pytest.fixture(scope="module")
def messi():
    import cv2

    frame = cv2.imread(str(sample_path("messi5.jpg")))
    model = load_pose_model("posenet", max_poses=6)
    spec = model.crop(full_frame_roi(frame.shape[1], frame.shape[0]))
    session = OrtModel(zoo.onnx_path("posenet"), "cpu")
    outputs = session.run({session.input_names[0]: crop_tensor(frame, spec)})
    session.close()
    return model, outputs, ModelInput(None, spec.crop_to_source, full_frame_roi(1, 1))


def test_the_left_knee_heatmap_peaks_on_the_right_knee(messi) -> None:
    _, outputs, _ = messi
    cells, _ = argmax_heatmaps(posenet_output(outputs, "heatmap"))
    width = posenet_output(outputs, "heatmap").shape[1]
    left, right = (np.divmod(cells[COCO_17.index(n)], width) for n in ("left_knee", "right_knee"))
    assert np.abs(np.subtract(left, right)).max() <= 1  # the same cell, give or take one


def test_single_pose_decode_is_exactly_argmax_plus_offset(messi) -> None:
    model, outputs, model_input = messi
    single = load_pose_model("posenet", max_poses=1)
    pose = single.decode(outputs, model_input, CpuHeatmapOps())[0][0]
    heatmaps, offsets = posenet_output(outputs, "heatmap"), posenet_output(outputs, "offset")
    cells, _ = argmax_heatmaps(heatmaps)
    rows, cols = np.divmod(cells, heatmaps.shape[1])
    k = np.arange(len(COCO_17))
    by_hand = np.stack(
        [
            cols * OUTPUT_STRIDE + offsets[rows, cols, k + 17],
            rows * OUTPUT_STRIDE + offsets[rows, cols, k],
        ],
        axis=1,
    )
    assert np.allclose(
        pose.keypoints[:, :2], apply_affine(model_input.crop_to_source, by_hand), atol=1e-3
    )
    knees = pose.keypoints[[COCO_17.index("left_knee"), COCO_17.index("right_knee")], :2]
    assert np.linalg.norm(knees[0] - knees[1]) < 10  # both knees drawn on the right knee


def test_the_part_tree_decode_finds_the_real_left_knee(messi) -> None:
    model, outputs, model_input = messi
    poses, _ = model.decode(outputs, model_input, CpuHeatmapOps())
    keypoints = poses[0].keypoints
    left, right = (
        keypoints[COCO_17.index("left_knee"), :2],
        keypoints[COCO_17.index("right_knee"), :2],
    )
    assert np.linalg.norm(left - right) > 80
    assert np.linalg.norm(left - BLAZEPOSE_LEFT_KNEE) < 30
