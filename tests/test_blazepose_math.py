"""BlazePose pipeline math (anchors, NMS, ROI maps, heatmap refinement) and its agreement with
MediaPipe 0.10.14's own pipeline (mp.solutions.pose) on real footage.

The models run through LiteRT here (the reference runtime), so these tests do not depend on
the ONNX conversion. MediaPipe and LiteRT are dev dependencies, used by tests only.
"""

import math
import sys
from collections.abc import Callable, Iterator

import cv2
import numpy as np
import pytest

from posetrack.components.roi import RegionOfInterest
from posetrack.geometry import (
    apply_affine,
    crop_matrix,
    invert_affine,
    letterbox_matrix,
    roi_from_alignment_points,
    warp_crop,
)
from posetrack.models import blazepose_landmarks as bl
from posetrack.models.blazepose_detector import (
    Detections,
    DetectorDecoder,
    decode_boxes,
    preprocess_detector,
    ssd_anchors,
    weighted_nms,
)
from posetrack.models.zoo import source_path
from posetrack.samples import sample_path

Model = Callable[[np.ndarray], dict[str, np.ndarray]]
Keypoints = tuple[np.ndarray, np.ndarray]  # (33 x 3: x_px, y_px, visibility), (33 x 3 metres)

# frame 0: nobody in view yet (both pipelines must agree on that); 80..210: the person runs in
# and jumps, every 13th frame (static detection finds them from about frame 80 to 210)
SPORTS2D_FRAMES = (0, *range(80, 211, 13))
TRACKING_FRAMES = (100, 140, 180)  # frame t of each (t, t + 1) pair
# torso-relative error bounds (median over all keypoints of all frames; the brief's target)
MAX_MEDIAN_ERROR = 0.03
# the refinement's option: mp.solutions.pose runs 9 unless this _pb2 was imported before the
# Pose object was built (see blazepose_landmarks.HEATMAP_KERNEL); then it runs the graph's 7
_REFINE_PB2 = "mediapipe.calculators.util.refine_landmarks_from_heatmap_calculator_pb2"


# ---------------------------------------------------------------- unit tests (synthetic input)


def test_ssd_anchors_match_mediapipe_layout() -> None:
    anchors = ssd_anchors()
    assert anchors.shape == (2254, 4)
    # stride 8: 28 x 28 cells, 2 anchors each (aspect 1 + interpolated scale), row-major
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28, 1, 1])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28, 1, 1])
    np.testing.assert_allclose(anchors[2 * 28], [0.5 / 28, 1.5 / 28, 1, 1])
    # stride 16 starts after 28 * 28 * 2 anchors; the three stride-32 layers share 7 x 7 cells
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14, 1, 1])
    np.testing.assert_allclose(anchors[1568 + 392], [0.5 / 7, 0.5 / 7, 1, 1])
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7, 1, 1])
    assert np.all(anchors[1568 + 392 : 1568 + 392 + 6] == anchors[1568 + 392])


def test_decode_boxes_scales_by_anchor_and_clips_scores() -> None:
    anchors = ssd_anchors()
    raw = np.zeros((1, 2254, 12), np.float32)
    logits = np.full((1, 2254, 1), -1000.0, np.float32)  # clipped to -100: no overflow
    raw[0, 5] = [22.4, -11.2, 44.8, 22.4, 0, 0, 11.2, 0, 0, 0, 0, 0]
    logits[0, 5] = 1000.0
    with np.errstate(all="raise"):
        found = decode_boxes(raw, logits, anchors)
    assert found.scores.tolist() == [1.0]
    cx, cy = anchors[5, 0] + 0.1, anchors[5, 1] - 0.05
    np.testing.assert_allclose(found.boxes[0], [cx - 0.1, cy - 0.05, 0.2, 0.1], atol=1e-6)
    np.testing.assert_allclose(found.keypoints[0, 1], [anchors[5, 0] + 0.05, anchors[5, 1]])


def test_weighted_nms_averages_overlapping_boxes_by_score() -> None:
    boxes = np.array([[0.10, 0.10, 0.20, 0.20], [0.12, 0.10, 0.20, 0.20], [0.6, 0.6, 0.1, 0.1]])
    keypoints = np.zeros((3, 4, 2))
    keypoints[0, 0], keypoints[1, 0], keypoints[2, 0] = (0.2, 0.2), (0.3, 0.2), (0.65, 0.65)
    scores = np.array([0.6, 0.9, 0.8])
    kept = weighted_nms(Detections(scores, boxes, keypoints))
    assert kept.scores.tolist() == [0.9, 0.8]  # best score of each cluster, best first
    w = np.array([0.6, 0.9]) / 1.5
    np.testing.assert_allclose(kept.boxes[0], [0.10 * w[0] + 0.12 * w[1], 0.10, 0.20, 0.20])
    np.testing.assert_allclose(kept.keypoints[0, 0], [0.2 * w[0] + 0.3 * w[1], 0.2])
    np.testing.assert_allclose(kept.boxes[1], boxes[2])  # alone: unchanged
    # IoU of 0.3 exactly is not "> 0.3": both survive
    apart = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.3, 1.0]])
    kept = weighted_nms(Detections(np.array([0.9, 0.8]), apart, np.zeros((2, 4, 2))))
    assert len(kept.scores) == 2


@pytest.mark.parametrize("rotation", [0.0, 0.4, -2.5, math.pi])
def test_crop_matrix_matches_mediapipe_corner_mapping(rotation: float) -> None:
    roi = RegionOfInterest(640.3, 410.7, 300.0, 220.0, rotation)
    # MediaPipe's OpenCV converter: boxPoints(roi) -> (0, H), (0, 0), (W, 0), (W, H)
    corners = cv2.boxPoints(((roi.x_center, roi.y_center), (roi.width, roi.height),
                             math.degrees(rotation)))  # fmt: skip
    target = np.array([[0, 128], [0, 0], [256, 0], [256, 128]], np.float64)
    np.testing.assert_allclose(apply_affine(crop_matrix(roi, 256, 128), corners), target, atol=1e-3)


def test_crop_matrix_round_trip_and_rotation_convention() -> None:
    roi = RegionOfInterest(500.0, 300.0, 200.0, 200.0, math.radians(30))
    m = crop_matrix(roi, 256, 256)
    back = invert_affine(m)
    points = np.random.default_rng(1).uniform(0, 1000, (20, 2))
    np.testing.assert_allclose(apply_affine(back, apply_affine(m, points)), points, atol=1e-9)
    np.testing.assert_allclose(apply_affine(back, [[128, 128]]), [[500, 300]])
    # the crop's top centre lies "up" the ROI: (sin r, -cos r) in the image, clockwise on screen
    up = apply_affine(back, [[128, 0]])[0] - (500, 300)
    expected = 100 * np.array([math.sin(roi.rotation), -math.cos(roi.rotation)])
    np.testing.assert_allclose(up, expected)


def test_roi_from_alignment_points_is_upright_when_scale_point_is_above() -> None:
    upright = roi_from_alignment_points(np.array([100.0, 200.0]), np.array([100.0, 120.0]))
    assert upright.rotation == pytest.approx(0.0)
    assert upright.width == upright.height == pytest.approx(2 * 80 * 1.25)
    assert (upright.x_center, upright.y_center) == (100.0, 200.0)
    lying = roi_from_alignment_points(np.array([100.0, 200.0]), np.array([180.0, 200.0]))
    assert lying.rotation == pytest.approx(math.pi / 2)  # head to the right: clockwise
    # the detector ROI's crop then shows the scale point straight above the centre
    crop = apply_affine(crop_matrix(lying, 256, 256), [[180.0, 200.0]])[0]
    np.testing.assert_allclose(crop, [128, 128 - 128 / 1.25], atol=1e-9)


def test_letterbox_pads_the_short_side_evenly() -> None:
    m = letterbox_matrix(1768, 994, 224)
    np.testing.assert_allclose(apply_affine(m, [[0, 0], [1768, 994]]),
                               [[0, (224 - 994 * 224 / 1768) / 2],
                                [224, (224 + 994 * 224 / 1768) / 2]])  # fmt: skip
    image = np.full((10, 20, 3), 200, np.uint8)
    crop = warp_crop(image, letterbox_matrix(20, 10, 20), 20, 20, border="zero")
    assert crop[0].max() == 0 and crop[-1].max() == 0 and crop[10, 10, 0] == 200


def _refine_reference(points: np.ndarray, heatmap: np.ndarray, kernel: int) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatMap written as plain loops (normalised coordinates)."""
    height, width, _ = heatmap.shape
    out = points.copy()
    offset = (kernel - 1) // 2
    for i, (x, y) in enumerate(points):
        col, row = int(x * width), int(y * height)
        if col < 0 or col >= width or row < 0 or col >= height:  # sic: MediaPipe tests col
            continue
        total = best = weighted_col = weighted_row = 0.0
        for r in range(max(0, row - offset), min(height, row + offset + 1)):
            for c in range(max(0, col - offset), min(width, col + offset + 1)):
                confidence = 1.0 / (1.0 + math.exp(-float(heatmap[r, c, i])))
                total += confidence
                best = max(best, confidence)
                weighted_col += c * confidence
                weighted_row += r * confidence
        if best >= 0.5 and total > 0:
            out[i] = weighted_col / width / total, weighted_row / height / total
    return out


@pytest.mark.parametrize("kernel", [7, 9])
def test_refine_from_heatmap_matches_direct_reference(kernel: int) -> None:
    rng = np.random.default_rng(7)
    heatmap = rng.normal(-1.0, 2.0, (64, 64, 39)).astype(np.float32)
    points = rng.uniform(0.0, 1.0, (39, 2))
    # edge cases: outside left/right, just left of 0 (truncates to cell 0), top-left corner,
    # bottom-right corner, one and four cells below the crop (MediaPipe's row check bug)
    points[:8] = [[-0.1, 0.5], [1.05, 0.5], [-0.004, 0.3], [0.0, 0.0], [0.999, 0.999],
                  [0.5, 1.01], [0.5, 1.06], [0.3, -0.001]]  # fmt: skip
    refined = bl.refine_from_heatmap(points * 256, heatmap[None], kernel_size=kernel) / 256
    np.testing.assert_allclose(refined, _refine_reference(points, heatmap, kernel), atol=1e-6)
    assert not np.allclose(refined[8:], points[8:])  # it did refine the ordinary ones


# --------------------------------------------------- real models, real footage, vs MediaPipe


def _litert(name: str, plain_kernels: bool) -> Model:
    """A LiteRT runner for one model: input array -> {output name: array}."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # XNNPACK (LiteRT's default delegate) leaves the detector's DENSIFY outputs zero
    extra = {"experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    interpreter = Interpreter(
        model_path=str(source_path(name)), num_threads=2, **(extra if plain_kernels else {})
    )
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    outputs = interpreter.get_output_details()

    def run(tensor: np.ndarray) -> dict[str, np.ndarray]:
        interpreter.set_tensor(input_index, tensor)
        interpreter.invoke()
        return {d["name"]: interpreter.get_tensor(d["index"]).copy() for d in outputs}

    return run


@pytest.fixture(scope="module")
def models() -> tuple[Model, Model]:
    return _litert("pose-detector", plain_kernels=True), _litert("blazepose-full", False)


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    """messi5.jpg and some Sports2D frames (BGR), by name."""
    found = {"messi5": cv2.imread(str(sample_path("messi5.jpg")))}
    wanted = set(SPORTS2D_FRAMES) | set(TRACKING_FRAMES) | {t + 1 for t in TRACKING_FRAMES}
    capture = cv2.VideoCapture(str(sample_path("sports2d-demo.mp4")))
    index = 0
    while wanted:
        ok, frame = capture.read()
        if not ok:
            break
        if index in wanted:
            found[f"sports2d-{index}"] = frame
            wanted.discard(index)
        index += 1
    capture.release()
    assert not wanted, f"sports2d-demo.mp4 ended before frames {sorted(wanted)}"
    return found


def _reference_kernel() -> int:
    return bl.GRAPH_HEATMAP_KERNEL if _REFINE_PB2 in sys.modules else bl.HEATMAP_KERNEL


def _mediapipe(images: list[np.ndarray], static: bool) -> Iterator[Keypoints | None]:
    """mp.solutions.pose (full model, no smoothing) over BGR images, in order."""
    import mediapipe as mp

    settings = {"model_complexity": 1, "smooth_landmarks": False}
    with mp.solutions.pose.Pose(static_image_mode=static, **settings) as pose:
        for image in images:
            height, width = image.shape[:2]
            result = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            if result.pose_landmarks is None:
                yield None
                continue
            marks = result.pose_landmarks.landmark
            world = result.pose_world_landmarks.landmark
            yield (np.array([[m.x * width, m.y * height, m.visibility] for m in marks]),
                   np.array([[m.x, m.y, m.z] for m in world]))  # fmt: skip


def _ours(image: np.ndarray, models: tuple[Model, Model], roi: RegionOfInterest | None = None
          ) -> tuple[Keypoints | None, np.ndarray | None]:  # fmt: skip
    """Detector (unless an ROI is given) then landmarks, through the functions under test."""
    detector, landmarks = models
    if roi is None:
        tensor, crop_to_source = preprocess_detector(image)
        rois = DetectorDecoder().decode(detector(tensor), crop_to_source)
        if not rois:
            return None, None
        roi = rois[0]
    tensor, crop_to_source = bl.preprocess_landmarks(image, roi)
    pose, aux = bl.decode_landmarks(
        landmarks(tensor), crop_to_source, roi, heatmap_kernel=_reference_kernel()
    )
    return (None, None) if pose is None else ((pose.keypoints, pose.world), aux)


def _torso_errors(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Per-keypoint distance / torso length (shoulder midpoint to hip midpoint, theirs)."""
    torso = np.linalg.norm(theirs[[11, 12], :2].mean(0) - theirs[[23, 24], :2].mean(0))
    return np.linalg.norm(ours[:, :2] - theirs[:, :2], axis=1) / torso


def test_static_landmarks_agree_with_mediapipe(
    models: tuple[Model, Model], frames: dict[str, np.ndarray]
) -> None:
    names = ["messi5"] + [f"sports2d-{i}" for i in SPORTS2D_FRAMES]
    references = list(_mediapipe([frames[n] for n in names], static=True))
    errors, world_errors, visibility_errors = [], [], []
    for name, reference in zip(names, references, strict=True):
        ours, _ = _ours(frames[name], models)
        assert (ours is None) == (reference is None), f"{name}: found by one pipeline only"
        if ours is None or reference is None:
            continue
        errors.append(_torso_errors(ours[0], reference[0]))
        world_errors.append(np.linalg.norm(ours[1] - reference[1], axis=1))
        visibility_errors.append(np.abs(ours[0][:, 2] - reference[0][:, 2]))
        print(f"{name}: median {np.median(errors[-1]):.4f} max {errors[-1].max():.4f} torso")
    assert len(errors) >= 6, "too few frames with a person to compare"
    every = np.concatenate(errors)
    print(f"static, {len(errors)} images: median {np.median(every):.4f}, "
          f"max {every.max():.4f} torso lengths; world median "
          f"{np.median(np.concatenate(world_errors)) * 100:.2f} cm; visibility median "
          f"{np.median(np.concatenate(visibility_errors)):.4f}")  # fmt: skip
    assert np.median(every) <= MAX_MEDIAN_ERROR
    assert np.median(np.concatenate(world_errors)) < 0.03  # metres
    assert np.median(np.concatenate(visibility_errors)) < 0.02


def test_tracking_step_agrees_with_mediapipe_video_mode(
    models: tuple[Model, Model], frames: dict[str, np.ndarray]
) -> None:
    """ROI from frame t's aux landmarks, used on frame t + 1, as MediaPipe's video mode does.

    A fresh video-mode Pose per pair: its frame t runs the detector, its frame t + 1 the
    landmark ROI (the always-on aux-landmark filter passes its first value through unchanged).
    """
    errors = []
    for t in TRACKING_FRAMES:
        first, second = frames[f"sports2d-{t}"], frames[f"sports2d-{t + 1}"]
        reference = list(_mediapipe([first, second], static=False))[1]
        found, aux = _ours(first, models)
        assert found is not None and aux is not None and reference is not None
        height, width = first.shape[:2]
        ours, _ = _ours(second, models, bl.roi_from_landmarks(aux, width, height))
        assert ours is not None
        errors.append(_torso_errors(ours[0], reference[0]))
        print(f"track {t}->{t + 1}: median {np.median(errors[-1]):.4f} "
              f"max {errors[-1].max():.4f} torso")  # fmt: skip
    every = np.concatenate(errors)
    print(f"tracking: median {np.median(every):.4f}, max {every.max():.4f} torso lengths")
    assert np.median(every) <= MAX_MEDIAN_ERROR


def test_landmarks_on_mediapipes_own_roi_agree_closely(
    models: tuple[Model, Model], frames: dict[str, np.ndarray]
) -> None:
    """The landmark path alone: crop where MediaPipe's detector put the ROI, compare landmarks.

    Separates the landmark stages (crop, decode, refinement, projection) from the detector,
    whose small numeric differences (a few source pixels of ROI) dominate the end-to-end gap.
    """
    import mediapipe as mp
    from mediapipe.python.solution_base import SolutionBase

    graph = SolutionBase(
        binary_graph_path=mp.solutions.pose._BINARYPB_FILE_PATH,
        side_inputs={
            "model_complexity": 1,
            "smooth_landmarks": False,
            "enable_segmentation": False,
            "smooth_segmentation": False,
            "use_prev_landmarks": False,
        },  # fmt: skip
        outputs=["pose_landmarks", "pose_rect_from_detection"],
    )
    errors = []
    try:
        for name in ["messi5"] + [f"sports2d-{i}" for i in SPORTS2D_FRAMES]:
            image = frames[name]
            height, width = image.shape[:2]
            result = graph.process({"image": cv2.cvtColor(image, cv2.COLOR_BGR2RGB)})
            if result.pose_landmarks is None:
                continue
            rect = result.pose_rect_from_detection
            roi = RegionOfInterest(
                rect.x_center * width, rect.y_center * height,
                rect.width * width, rect.height * height, rect.rotation,
            )  # fmt: skip
            ours, _ = _ours(image, models, roi)
            assert ours is not None
            theirs = np.array([[m.x * width, m.y * height] for m in result.pose_landmarks.landmark])
            errors.append(_torso_errors(ours[0], theirs))
    finally:
        graph.close()
    every = np.concatenate(errors)
    print(
        f"on MediaPipe's ROI, {len(errors)} images: median {np.median(every):.4f}, "
        f"95th percentile {np.percentile(every, 95):.4f}, max {every.max():.4f} torso"
    )
    assert len(errors) >= 6
    assert np.median(every) <= 0.003
    assert np.percentile(every, 95) <= 0.02
