"""BlazePose pipeline math (anchors, NMS, ROI maps, heatmap refinement) and its agreement with
MediaPipe 0.10.14's own pipeline (mp.solutions.pose) on real footage.

The models run through LiteRT here (the reference runtime), so these tests do not depend on
the ONNX conversion. MediaPipe and LiteRT are dev dependencies, used by tests only.
"""

import math
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from mediapipe_reference import run_on_images  # tests/ is on sys.path under pytest

from posetrack.components.roi import RegionOfInterest
from posetrack.downloads.samples import sample_path
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
from posetrack.stages.decode_cpu import GRAPH_HEATMAP_KERNEL, HEATMAP_KERNEL, refine_from_heatmap
from posetrack.stages.geometry import (
    apply_affine,
    crop_matrix,
    invert_affine,
    letterbox_matrix,
    roi_from_alignment_points,
    warp_crop,
)

Model = Callable[[np.ndarray], dict[str, np.ndarray]]
Keypoints = tuple[np.ndarray, np.ndarray]  # (33 x 3: x_px, y_px, visibility), (33 x 3 metres)

# frame 0: nobody in view yet (both pipelines must agree on that); 80..210: the person runs in
# and jumps, every 13th frame (static detection finds them from about frame 80 to 210)
SPORTS2D_FRAMES = (0, *range(80, 211, 13))
TRACKING_FRAMES = (100, 140, 180)  # frame t of each (t, t + 1) pair
# torso-relative error bounds (median over all keypoints of all frames; the brief's target)
MAX_MEDIAN_ERROR = 0.03
# Found / not found is decided by two scores against 0.5 (detector score, landmark pose flag).
# Two pipelines may differ by a grey level of resampling; on some frames that alone flips the
# decision (measured here: +-1 grey level of noise moves the pose flag of Sports2D frame 145 by
# up to 0.26, from 0.36). Such frames are counted, not held to agreement; a frame is decided when
# the original and this many noisy copies all agree.
GREY_LEVEL_DRAWS = 4


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
    refined = refine_from_heatmap(points * 256, heatmap[None], kernel_size=kernel) / 256
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


def _reference_kernel(result: dict[str, np.ndarray]) -> int:
    imported = bool(result["refine_pb2_imported"])
    return GRAPH_HEATMAP_KERNEL if imported else HEATMAP_KERNEL


def _mediapipe(
    frames: dict[str, np.ndarray], runs: list[list[str]], static: bool
) -> tuple[list[list[Keypoints | None]], int]:
    """mp.solutions.pose (full model, no smoothing) in its own venv: a fresh Pose per run, its
    images in order. Returns per run per image the keypoints or None, and the refinement kernel
    that MediaPipe ran."""
    images = {name: frames[name] for run in runs for name in run}
    result = run_on_images("runs", images, runs=runs, static=static)
    found = [
        [
            (result[f"{r}/{i}/landmarks"], result[f"{r}/{i}/world"])
            if f"{r}/{i}/landmarks" in result
            else None
            for i in range(len(run))
        ]
        for r, run in enumerate(runs)
    ]
    return found, _reference_kernel(result)


class Ours:
    """One image through the functions under test, with the two scores whose thresholds decide
    whether a pose is found at all (detector score, landmark pose flag)."""

    def __init__(self, image: np.ndarray, models: tuple[Model, Model], kernel: int,
                 roi: RegionOfInterest | None = None) -> None:  # fmt: skip
        detector, landmarks = models
        self.keypoints: Keypoints | None = None
        self.aux: np.ndarray | None = None
        self.detector_score = self.pose_flag = math.nan
        if roi is None:
            tensor, crop_to_source = preprocess_detector(image)
            outputs = detector(tensor)
            logits = np.clip(outputs["Identity_1"].astype(np.float64), -100, 100)
            self.detector_score = float((1.0 / (1.0 + np.exp(-logits))).max())
            rois = DetectorDecoder().decode(outputs, crop_to_source)
            if not rois:
                return
            roi = rois[0]
        tensor, crop_to_source = bl.preprocess_landmarks(image, roi)
        outputs = landmarks(tensor)
        self.pose_flag = float(outputs["Identity_1"].reshape(-1)[0])
        pose, self.aux = bl.decode_landmarks(outputs, crop_to_source, roi, heatmap_kernel=kernel)
        if pose is not None:
            self.keypoints = (pose.keypoints, pose.world)


def found_for_sure(image: np.ndarray, models: tuple[Model, Model], kernel: int) -> bool | None:
    """Whether our pipeline finds a pose, or None when that decision is on a threshold: when
    +-1 grey level of noise on the input (GREY_LEVEL_DRAWS seeded draws) changes it."""
    rng = np.random.default_rng(0)
    decisions = {Ours(image, models, kernel).keypoints is not None}
    for _ in range(GREY_LEVEL_DRAWS):
        noise = rng.integers(-1, 2, image.shape)
        noisy = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        decisions.add(Ours(noisy, models, kernel).keypoints is not None)
    return decisions.pop() if len(decisions) == 1 else None


def _torso_errors(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Per-keypoint distance / torso length (shoulder midpoint to hip midpoint, theirs)."""
    torso = np.linalg.norm(theirs[[11, 12], :2].mean(0) - theirs[[23, 24], :2].mean(0))
    return np.linalg.norm(ours[:, :2] - theirs[:, :2], axis=1) / torso


def test_static_landmarks_agree_with_mediapipe(
    models: tuple[Model, Model], frames: dict[str, np.ndarray]
) -> None:
    """Found / not found agree on every image whose decision a grey level cannot flip (see
    GREY_LEVEL_DRAWS); the others are counted and printed; keypoints agree where both found."""
    names = ["messi5"] + [f"sports2d-{i}" for i in SPORTS2D_FRAMES]
    (references,), kernel = _mediapipe(frames, [names], static=True)
    errors, world_errors, visibility_errors, on_threshold = [], [], [], []
    for name, reference in zip(names, references, strict=True):
        ours = Ours(frames[name], models, kernel)
        decided = found_for_sure(frames[name], models, kernel)
        if decided is None:
            on_threshold.append(name)
        elif decided != (reference is not None):
            pytest.fail(f"{name}: found by one pipeline only (detector score "
                        f"{ours.detector_score:.3f}, pose flag {ours.pose_flag:.3f})")  # fmt: skip
        if ours.keypoints is None or reference is None:
            continue
        errors.append(_torso_errors(ours.keypoints[0], reference[0]))
        world_errors.append(np.linalg.norm(ours.keypoints[1] - reference[1], axis=1))
        visibility_errors.append(np.abs(ours.keypoints[0][:, 2] - reference[0][:, 2]))
        print(f"{name}: median {np.median(errors[-1]):.4f} max {errors[-1].max():.4f} torso")
    print(f"on a threshold (a grey level flips found / not found): {on_threshold or 'none'}")
    assert len(errors) >= 6, "too few frames with a person to compare"
    assert len(on_threshold) <= 2, "most images sit on a threshold: the margin is too wide"
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
    pairs = [[f"sports2d-{t}", f"sports2d-{t + 1}"] for t in TRACKING_FRAMES]
    references, kernel = _mediapipe(frames, pairs, static=False)
    errors = []
    for (first, second), (_, reference) in zip(pairs, references, strict=True):
        found = Ours(frames[first], models, kernel)
        assert found.keypoints is not None and found.aux is not None and reference is not None
        height, width = frames[first].shape[:2]
        roi = bl.roi_from_landmarks(found.aux, width, height)
        ours = Ours(frames[second], models, kernel, roi).keypoints
        assert ours is not None
        errors.append(_torso_errors(ours[0], reference[0]))
        print(f"track {first}->{second}: median {np.median(errors[-1]):.4f} "
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
    names = ["messi5"] + [f"sports2d-{i}" for i in SPORTS2D_FRAMES]
    result = run_on_images("roi", {n: frames[n] for n in names}, names=names)
    kernel = _reference_kernel(result)
    errors = []
    for name in names:
        if f"{name}/rect" not in result:
            continue
        roi = RegionOfInterest(*(float(v) for v in result[f"{name}/rect"]))
        ours = Ours(frames[name], models, kernel, roi).keypoints
        assert ours is not None
        errors.append(_torso_errors(ours[0], result[f"{name}/landmarks"]))
    every = np.concatenate(errors)
    print(
        f"on MediaPipe's ROI, {len(errors)} images: median {np.median(every):.4f}, "
        f"95th percentile {np.percentile(every, 95):.4f}, max {every.max():.4f} torso"
    )
    assert len(errors) >= 6
    assert np.median(every) <= 0.003
    assert np.percentile(every, 95) <= 0.02
