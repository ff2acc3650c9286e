"""The compute-shader crop gives the CPU path's model inputs, on real frames, through Panda3D.

CPU references: preprocess_landmarks (rotated ROI, replicated border, [0, 1]) and
preprocess_detector (letterbox, zero border, [-1, 1]). Both croppers are held to the crop's
specification (tests/crop_reference.py) within one grey level, the most that float32 rounding can
move a correctly rounded bilinear sample; so they agree with each other within one grey level
too, whichever OpenCV build runs the CPU path. The tests print how many values differ at all.
"""

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from crop_reference import GREY_LEVEL, exact_crop  # tests/ is on sys.path under pytest
from direct.showbase.ShowBase import ShowBase

from posetrack.components.roi import RegionOfInterest
from posetrack.errors import PosetrackError
from posetrack.models.blazepose_detector import detector_crop, preprocess_detector
from posetrack.models.blazepose_landmarks import INPUT_SIZE, landmark_crop, preprocess_landmarks
from posetrack.stages.crop_cpu import VALUE_RANGES, CropSpec, crop_tensor
from posetrack.stages.crop_gpu import GpuCropper
from posetrack.stages.geometry import crop_matrix, letterbox_matrix, pad_roi
from posetrack.stages.gpu_context import GpuContext, inject_defines

# one grey level in [0, 1] units, plus float32 rounding of the scaled value (see crop_reference)
TOLERANCE = GREY_LEVEL + 1e-6
SPORTS2D_FRAMES = (0, 120, 229)  # first, middle (mid-jump) and last frame of the clip


@pytest.fixture(scope="module")
def frames(sports2d_clip: Path, messi_image: Path) -> dict[str, np.ndarray]:
    """Real BGR frames: messi5.jpg (548x342) and Sports2D clip frames (1768x994)."""
    found = {"messi5": cv2.imread(str(messi_image))}
    capture = cv2.VideoCapture(str(sports2d_clip))
    try:
        for index in SPORTS2D_FRAMES:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            assert ok, f"could not read frame {index} of {sports2d_clip}"
            found[f"sports2d-{index}"] = frame
    finally:
        capture.release()
    return found


@pytest.fixture(scope="module")
def context(showbase: ShowBase) -> Iterator[GpuContext]:
    ctx = GpuContext.from_showbase(showbase)
    print(f"GL renderer: {ctx.renderer} (software: {ctx.is_software})")
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def landmark_cropper(context: GpuContext) -> Iterator[GpuCropper]:
    cropper = GpuCropper(context, INPUT_SIZE, INPUT_SIZE, border="replicate")
    yield cropper
    cropper.close()


def _rois(frame: np.ndarray) -> dict[str, RegionOfInterest]:
    """ROIs the tracker produces: upright on the person, rotated, and leaving the frame."""
    h, w = frame.shape[:2]
    side = 0.8 * h
    return {
        "upright": RegionOfInterest(0.5 * w, 0.5 * h, side, side, 0.0),
        "rotated": RegionOfInterest(0.45 * w, 0.55 * h, side, side, 0.6),
        "upside-down": RegionOfInterest(0.5 * w, 0.4 * h, 0.5 * side, 0.5 * side, -2.7),
        # centre near the top-right corner, larger than the frame's height: mostly outside
        "leaves-frame": RegionOfInterest(0.92 * w, 0.1 * h, 1.3 * h, 1.3 * h, 0.25),
    }


def _report(name: str, got: np.ndarray, ref: np.ndarray, unit: float) -> float:
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64)) / unit
    print(f"{name}: max abs diff {diff.max():.2e} ([0, 1] units), {np.count_nonzero(diff)} differ")
    return float(diff.max())


def test_landmark_crop_matches_cpu_on_real_frames_including_rotated_and_outside_rois(
    frames: dict[str, np.ndarray], landmark_cropper: GpuCropper
) -> None:
    """Rotated ROI crops (replicated border, RGB [0, 1]) equal preprocess_landmarks'."""
    worst = 0.0
    for frame_name, frame in frames.items():
        landmark_cropper.upload(frame)
        for roi_name, roi in _rois(frame).items():
            matrix = crop_matrix(pad_roi(roi, INPUT_SIZE, INPUT_SIZE), INPUT_SIZE, INPUT_SIZE)
            got = landmark_cropper.crop(matrix)
            ref, _ = preprocess_landmarks(frame, roi)
            assert got.shape == ref.shape == (1, INPUT_SIZE, INPUT_SIZE, 3)
            assert got.dtype == np.float32
            worst = max(worst, _report(f"{frame_name}/{roi_name}", got, ref, 1.0))
    assert worst <= TOLERANCE


def _specified(frame: np.ndarray, spec: CropSpec) -> np.ndarray:
    """The crop's specification as a model tensor [1, H, W, 3] (RGB, the spec's value range)."""
    crop = exact_crop(frame, spec.source_to_crop, spec.width, spec.height, spec.border)
    scale, offset = VALUE_RANGES[spec.value_range]
    return (crop[..., ::-1].astype(np.float32) * scale + offset)[None]


def test_both_croppers_are_within_one_grey_level_of_the_specified_crop(
    frames: dict[str, np.ndarray], context: GpuContext, landmark_cropper: GpuCropper
) -> None:
    """GPU and CPU (this venv's OpenCV) against the exact bilinear crop: rotated ROIs leaving
    the frame (replicated border) and letterboxes (zero border, [-1, 1])."""
    detector = GpuCropper(context, 224, 224, value_range=(-1.0, 1.0), border="zero")
    worst = {"gpu": 0.0, "cpu": 0.0}
    try:
        for frame_name, frame in frames.items():
            h, w = frame.shape[:2]
            specs = {name: landmark_crop(roi) for name, roi in _rois(frame).items()}
            specs["letterbox"] = detector_crop(w, h)
            landmark_cropper.upload(frame)
            detector.upload(frame)
            for name, spec in specs.items():
                want = _specified(frame, spec)
                unit = spec.value_range[1] - spec.value_range[0]
                gpu = (detector if name == "letterbox" else landmark_cropper).crop(
                    spec.source_to_crop
                )
                for path, got in (("gpu", gpu), ("cpu", crop_tensor(frame, spec))):
                    diff = _report(f"{path} {frame_name}/{name}", got, want, unit)
                    worst[path] = max(worst[path], diff)
    finally:
        detector.close()
    assert worst["gpu"] <= TOLERANCE and worst["cpu"] <= TOLERANCE, worst


def test_crop_to_source_map_gives_the_same_crop(
    frames: dict[str, np.ndarray], landmark_cropper: GpuCropper
) -> None:
    """The inverse map that preprocess_landmarks returns (ModelInput.crop_to_source) works too."""
    frame = frames["sports2d-120"]
    landmark_cropper.upload(frame)
    roi = _rois(frame)["rotated"]
    ref, crop_to_source = preprocess_landmarks(frame, roi)
    got = landmark_cropper.crop(crop_to_source=crop_to_source)
    assert _report("crop_to_source", got, ref, 1.0) <= TOLERANCE


def test_detector_letterbox_matches_cpu_on_real_frames(
    frames: dict[str, np.ndarray], context: GpuContext
) -> None:
    """Letterboxed full frames (zero border, RGB [-1, 1]) equal preprocess_detector's.

    Landscape frames pad top and bottom; a portrait cut of a clip frame pads left and right.
    """
    size = 224  # the detector's input side (blazepose_detector.INPUT_SIZE)
    cropper = GpuCropper(context, size, size, value_range=(-1.0, 1.0), border="zero")
    inputs = dict(frames)
    inputs["sports2d-120-portrait"] = np.ascontiguousarray(frames["sports2d-120"][:, 600:1100])
    worst = 0.0
    try:
        for name, frame in inputs.items():
            cropper.upload(frame)
            h, w = frame.shape[:2]
            got = cropper.crop(letterbox_matrix(w, h, size))
            ref, _ = preprocess_detector(frame)
            assert got.shape == ref.shape == (1, size, size, 3)
            assert np.all(got[0, 0] == -1.0) or np.all(got[0, :, 0] == -1.0), "no zero padding"
            worst = max(worst, _report(f"letterbox {name}", got, ref, 2.0))  # [-1, 1] spans 2
    finally:
        cropper.close()
    assert worst <= TOLERANCE


def test_nchw_layout_is_the_nhwc_tensor_transposed(
    frames: dict[str, np.ndarray], context: GpuContext, landmark_cropper: GpuCropper
) -> None:
    frame = frames["messi5"]
    matrix = crop_matrix(_rois(frame)["rotated"], INPUT_SIZE, INPUT_SIZE)
    nchw_cropper = GpuCropper(context, INPUT_SIZE, INPUT_SIZE, layout="NCHW", border="replicate")
    try:
        nchw_cropper.upload(frame)
        nchw = nchw_cropper.crop(matrix)
    finally:
        nchw_cropper.close()
    landmark_cropper.upload(frame)
    nhwc = landmark_cropper.crop(matrix)
    assert nchw.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    np.testing.assert_array_equal(nchw, nhwc.transpose(0, 3, 1, 2))


def test_non_square_crop_matches_cpu_warp(frames: dict[str, np.ndarray], context: GpuContext):
    """Width and height are not mixed up: a 160 x 96 crop equals cv2.warpAffine's."""
    frame = frames["sports2d-229"]
    out_w, out_h = 160, 96
    roi = RegionOfInterest(900.0, 500.0, 700.0, 420.0, -0.3)
    matrix = crop_matrix(roi, out_w, out_h)
    cropper = GpuCropper(context, out_w, out_h, border="zero")
    try:
        cropper.upload(frame)
        got = cropper.crop(matrix)
    finally:
        cropper.close()
    warped = cv2.warpAffine(frame, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)
    ref = cv2.cvtColor(warped, cv2.COLOR_BGR2RGB).astype(np.float32) * np.float32(1.0 / 255.0)
    assert got.shape == (1, out_h, out_w, 3)
    assert _report("160x96", got[0], ref, 1.0) <= TOLERANCE


def test_byte_counters_count_each_call(
    frames: dict[str, np.ndarray], landmark_cropper: GpuCropper
) -> None:
    """upload() sends the frame's bytes; crop() sends two vec3 uniforms and reads the tensor."""
    frame = frames["sports2d-0"]
    before_up = landmark_cropper.total_bytes_uploaded
    before_down = landmark_cropper.total_bytes_read_back
    landmark_cropper.upload(frame)
    assert landmark_cropper.bytes_uploaded == 1768 * 994 * 3 == frame.nbytes
    assert landmark_cropper.bytes_read_back == 0
    matrix = crop_matrix(_rois(frame)["upright"], INPUT_SIZE, INPUT_SIZE)
    for _ in range(2):  # two crops of one frame: the frame is not sent again
        landmark_cropper.crop(matrix)
        assert landmark_cropper.bytes_uploaded == 2 * 3 * 4
        assert landmark_cropper.bytes_read_back == INPUT_SIZE * INPUT_SIZE * 3 * 4
    assert landmark_cropper.total_bytes_uploaded - before_up == frame.nbytes + 2 * 24
    assert landmark_cropper.total_bytes_read_back - before_down == 2 * INPUT_SIZE**2 * 12


def test_close_releases_textures_and_refuses_further_use(
    frames: dict[str, np.ndarray], context: GpuContext
) -> None:
    cropper = GpuCropper(context, 64, 64)
    frame = frames["messi5"]
    cropper.upload(frame)
    cropper.crop(letterbox_matrix(frame.shape[1], frame.shape[0], 64))
    textures = [cropper._frame_tex, cropper._out_tex]
    prepared = context.gsg.prepared_objects
    assert all(t.is_prepared(prepared) for t in textures)
    cropper.close()
    assert cropper.closed
    assert not any(t.is_prepared(prepared) for t in textures)
    cropper.close()  # idempotent
    with pytest.raises(PosetrackError, match="closed"):
        cropper.upload(frame)
    with pytest.raises(PosetrackError, match="closed"):
        cropper.crop(np.eye(2, 3))


def test_crop_refuses_bad_input(context: GpuContext) -> None:
    cropper = GpuCropper(context, 8, 8)
    try:
        with pytest.raises(PosetrackError, match="upload"):
            cropper.crop(np.eye(2, 3))
        with pytest.raises(PosetrackError, match="uint8"):
            cropper.upload(np.zeros((4, 4, 3), np.float32))
        cropper.upload(np.zeros((4, 4, 3), np.uint8))
        with pytest.raises(PosetrackError, match="exactly one"):
            cropper.crop(np.eye(2, 3), crop_to_source=np.eye(2, 3))
    finally:
        cropper.close()
    with pytest.raises(PosetrackError, match="layout"):
        GpuCropper(context, 8, 8, layout="HWC")


def test_defines_go_right_after_the_version_line() -> None:
    source = "// header\n#version 430\nvoid main() {}\n"
    out = inject_defines(source, {"OUT_W": 256, "LAYOUT_NCHW": 0})
    lines = out.splitlines()
    assert lines[:6] == [
        "// header", "#version 430", "#define OUT_W 256", "#define LAYOUT_NCHW 0",
        "#line 3", "void main() {}",
    ]  # fmt: skip


def test_missing_display_module_raises_an_error_naming_the_packages() -> None:
    with pytest.raises(PosetrackError, match="libegl-mesa0"):
        GpuContext.headless(load_display="p3no_such_display")


_HEADLESS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import cv2, numpy as np
    from panda3d.core import ConfigPageManager
    from posetrack.components.roi import RegionOfInterest
    from posetrack.stages.geometry import crop_matrix
    from posetrack.stages.crop_gpu import GpuCropper
    from posetrack.stages.gpu_context import GpuContext
    from posetrack.models.blazepose_landmarks import preprocess_landmarks

    frame = cv2.imread(sys.argv[1])
    ctx = GpuContext.headless()
    cropper = GpuCropper(ctx, 256, 256, border="replicate")
    roi = RegionOfInterest(300.0, 150.0, 300.0, 300.0, 0.4)
    cropper.upload(frame)
    got = cropper.crop(crop_matrix(roi, 256, 256))
    ref, _ = preprocess_landmarks(frame, roi)
    engine = ctx.engine
    cropper.close()
    ctx.close()
    pages = ConfigPageManager.get_global_ptr()
    names = [pages.get_implicit_page(i).name for i in range(pages.get_num_implicit_pages())]
    names += [pages.get_explicit_page(i).name for i in range(pages.get_num_explicit_pages())]
    print(json.dumps({
        "renderer": ctx.renderer,
        "showbase_imported": "direct.showbase.ShowBase" in sys.modules,
        "max_diff": float(np.abs(got - ref).max()),
        "windows_after_close": engine.get_num_windows(),
        "page_left": "posetrack-gpu-headless" in names,
        "closed": ctx.closed,
    }))
    """
)


def test_headless_context_works_without_showbase(messi_image: Path) -> None:
    """In a fresh process (one GL context, no ShowBase): crop, compare, close, clean up."""
    run = subprocess.run(
        [sys.executable, "-c", _HEADLESS_SCRIPT, str(messi_image)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(result)
    assert result["renderer"]
    assert not result["showbase_imported"]
    assert result["max_diff"] <= TOLERANCE
    assert result["windows_after_close"] == 0
    assert not result["page_left"]
    assert result["closed"]
