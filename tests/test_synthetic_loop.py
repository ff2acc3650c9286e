"""The synthetic closed loop on a short sequence: the mannequin walks in place with its left arm
raised, facing the front camera; real Panda3D renders it (synthetic_scene.py), `posetrack
track` tracks the pictures with the real models and drives a second mannequin, and what comes
back is compared with the known motion. benchmarks/synthetic_loop.py runs the whole 8 s
sequence from two cameras and prints the table (docs/synthetic-loop.md).
"""

from pathlib import Path

import numpy as np
import pytest
from synthetic_compare import compare, load_truth, render_sequence, track
from synthetic_motion import LEFT_RAISE
from synthetic_scene import CAMERAS, FPS, SyntheticScene

START_S = 1.2  # the left arm is fully up from LEFT_RAISE[0] + 0.35 s (its ramp)
FRAMES = 27  # 0.9 s at 30 fps: two steps of the walk
MIN_DETECTED = 0.95  # measured: every frame, both models
# Measured on this sequence (world landmarks and character alike): median 15.8 deg with
# blazepose-full, 14.4 with heavy. Against the truth with left and right exchanged the same
# stream is 89 deg off, with x mirrored 40: the bound keeps a few degrees for other renderers'
# and CPUs' small differences and fails any such mistake.
MAX_MEDIAN_DEG = 20.0
# measured 8.6 px (p90 25) on a ~500 px tall figure: the rig's joint centres are not exactly
# where BlazePose puts a shoulder or a hip
MAX_IMAGE_MEDIAN_PX = 15.0


@pytest.fixture(scope="module")
def rendered(showbase: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert LEFT_RAISE[0] + 0.35 <= START_S and START_S + FRAMES / FPS <= LEFT_RAISE[1] - 0.35
    folder = tmp_path_factory.mktemp("synthetic") / "front"
    scene = SyntheticScene(showbase)
    try:
        render_sequence(scene, CAMERAS["front"], FRAMES, folder, START_S)
    finally:
        scene.close()
    return folder


@pytest.fixture(scope="module", params=["blazepose-full", "blazepose-heavy"])
def stream(request: pytest.FixtureRequest, rendered: Path) -> list[dict]:
    model = request.param
    return track(rendered, rendered.parent / f"{model}.jsonl", "--model", model)


def test_the_models_see_the_figure_as_a_person(stream: list[dict], rendered: Path) -> None:
    result = compare(stream, load_truth(rendered), "world")
    assert result.detected / result.frames >= MIN_DETECTED


def test_tracked_and_driven_limbs_point_the_known_way(stream: list[dict], rendered: Path) -> None:
    truths = load_truth(rendered)
    for metric in ("world", "character"):
        result = compare(stream, truths, metric)
        errors = result.all_errors
        print(f"{stream[0]['model']} {metric}: median {np.median(errors):.1f} deg, "
              f"p90 {np.percentile(errors, 90):.1f} deg, {result.swaps()} swaps")  # fmt: skip
        assert len(errors) >= 8 * MIN_DETECTED * FRAMES  # 8 limbs a frame
        assert np.median(errors) <= MAX_MEDIAN_DEG, metric


def test_the_image_keypoints_land_on_the_rendered_joints(
    stream: list[dict], rendered: Path
) -> None:
    # the truth's projection and the picture agree (a wrong camera model would fail here)
    truths, names = load_truth(rendered), stream[0]["keypoints"]
    gaps = [
        np.hypot(
            *(np.array(pose["keypoints"][names.index(k)][:2]) - truths[line["frame"]].image[k])
        )
        for line in stream[1:-1]
        for pose in line["poses"][:1]
        for k in truths[0].image
    ]
    assert np.median(gaps) <= MAX_IMAGE_MEDIAN_PX


def test_the_raised_arm_is_the_left_one(stream: list[dict], rendered: Path) -> None:
    # facing the camera, the left wrist high above the head and the right one at the hip:
    # the person's left is on the image's right, up is -y, in the image, the world landmarks
    # and the driven character alike
    truth = load_truth(rendered)[FRAMES // 2]
    line = next(f for f in stream[1:-1] if f["frame"] == FRAMES // 2)
    pose, names = line["poses"][0], stream[0]["keypoints"]
    image = {k: np.array(pose["keypoints"][names.index(k)][:2]) for k in truth.image}
    for wrist, other in (("left_wrist", "right_wrist"), ("right_wrist", "left_wrist")):
        own = np.linalg.norm(image[wrist] - truth.image[wrist])
        assert own < np.linalg.norm(image[wrist] - truth.image[other]), wrist
    assert image["left_wrist"][1] < image["left_shoulder"][1] - 100  # raised
    assert image["right_wrist"][1] > image["right_shoulder"][1] + 100  # down
    assert image["left_shoulder"][0] > image["right_shoulder"][0]  # facing the camera
    world = {k: pose["world"][names.index(k)] for k in truth.image}
    for points in (world, pose["character"]):
        assert points["left_wrist"][1] < points["left_shoulder"][1] - 0.2  # y down, metres
        assert points["right_wrist"][1] > points["right_shoulder"][1] + 0.2
