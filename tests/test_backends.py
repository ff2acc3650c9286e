"""GPU and CPU paths give the same poses through the whole pipeline, and auto picks sensibly."""

from pathlib import Path

import cv2
import esper
import numpy as np
import pytest

from posetrack.components import StageTimes, TrackingConfig
from posetrack.downloads.samples import sample_path
from posetrack.stages.backends import choose_backends
from posetrack.stages.gpu_context import GpuContext
from posetrack.systems.pose_tracking import PoseTrackingSystem

# The whole-pipeline bound: a grey level of noise, drawn this many times, times this safety factor
NOISE_DRAWS = 3
NOISE_SAFETY = 2.0
TRACKING_GAP_TORSO = 0.01
DECODE_PX = 1e-2  # the decode paths' own difference: 1e-3 crop px, up to ~8x that in source px


@pytest.fixture
def gpu(showbase) -> GpuContext:
    """The test ShowBase's GL context, lent as a host game lends its own: one GL context per
    process (a second engine's context would leave Panda's direct GL calls on the wrong one)."""
    return GpuContext.from_showbase(showbase)


def _track(source: str, model: str, path: str, frames: int, gpu: GpuContext, max_poses: int = 1):
    esper.switch_world(f"test-backends-{model}-{path}")
    config = TrackingConfig(model=model, device="cpu", preprocess=path, decode=path)
    tracker = PoseTrackingSystem(source, config, max_poses, gpu_context=gpu)
    results, transfers = [], []
    try:
        for result in tracker.results(frames):
            results.append(result)
            times = esper.component_for_entity(tracker.entity, StageTimes)
            transfers.append((dict(times.bytes_up), dict(times.bytes_down)))
        return tracker.backends, results, transfers
    finally:
        tracker.close()
        esper.switch_world("default")


def test_auto_picks_the_cpu_on_a_software_renderer_and_says_why(gpu: GpuContext) -> None:
    choice = choose_backends("auto", "auto", gpu)
    software = "llvmpipe" in choice.renderer or "softpipe" in choice.renderer
    assert (choice.preprocess, choice.decode) == (("cpu", "cpu") if software else ("gpu", "gpu"))
    if software:
        assert "software" in choice.notice and "llvmpipe" in choice.notice


def _gaps(a: list, b: list) -> np.ndarray:
    """Per keypoint of every pose, the distance (px) between two frames' poses, in order."""
    assert len(a) == len(b) >= 1
    return np.concatenate(
        [np.linalg.norm(p.keypoints[:, :2] - q.keypoints[:, :2], axis=1)
         for p, q in zip(a, b, strict=True)]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("sample", "model", "max_poses"),
    [("messi5.jpg", "blazepose-full", 1), ("basketball2.png", "posenet", 6)],
)
def test_gpu_and_cpu_paths_give_the_same_poses(
    sample: str, model: str, max_poses: int, gpu: GpuContext, tmp_path: Path
) -> None:
    """The paths' crops may differ by one grey level (test_gpu_preprocess), so their poses may
    differ by what one grey level does to the model. The bound is measured here, per keypoint:
    the largest distance between the CPU path on the image and on NOISE_DRAWS copies with +-1
    grey level of seeded noise, times NOISE_SAFETY, plus DECODE_PX for the decode's own
    difference (test_heatmap_decode). Steady keypoints get a tight bound, a keypoint the model
    cannot place (occluded, low confidence) a loose one."""
    source = str(sample_path(sample))
    gpu_backends, on_gpu, transfers = _track(source, model, "gpu", 1, gpu, max_poses)
    cpu_backends, on_cpu, cpu_transfers = _track(source, model, "cpu", 1, gpu, max_poses)
    assert (gpu_backends["preprocess"], gpu_backends["decode"]) == ("gpu", "gpu")
    assert (cpu_backends["preprocess"], cpu_backends["decode"]) == ("cpu", "cpu")
    image = cv2.imread(source)
    rng = np.random.default_rng(0)
    moved = np.zeros(sum(len(p.keypoints) for p in on_cpu[0].poses))
    for draw in range(NOISE_DRAWS):
        noisy = np.clip(image.astype(np.int16) + rng.integers(-1, 2, image.shape), 0, 255)
        cv2.imwrite(str(tmp_path / f"noisy{draw}.png"), noisy.astype(np.uint8))
        _, on_noisy, _ = _track(str(tmp_path / f"noisy{draw}.png"), model, "cpu", 1, gpu, max_poses)
        moved = np.maximum(moved, _gaps(on_cpu[0].poses, on_noisy[0].poses))
    gap = _gaps(on_gpu[0].poses, on_cpu[0].poses)
    bound = NOISE_SAFETY * moved + DECODE_PX
    print(f"{sample}: GPU vs CPU median {np.median(gap):.4f} px, max {gap.max():.4f}; a grey "
          f"level of noise moves keypoints by median {np.median(moved):.4f} px")  # fmt: skip
    assert np.all(gap <= bound), f"keypoints {np.flatnonzero(gap > bound)} moved too far"
    up, down = transfers[0]
    assert down["preprocess"] > 0 and up["decode"] > 0  # every host round trip is counted
    # K x 4 floats, or PoseNet's candidate list: never the heatmaps (>= 42,500 bytes)
    assert 0 < down["decode"] <= 1028
    assert cpu_transfers[0] == ({"preprocess": 0, "decode": 0}, {"preprocess": 0, "decode": 0})


def test_tracking_a_clip_on_either_path_stays_together(gpu: GpuContext) -> None:
    """Tracking feeds each frame's landmarks into the next crop, so the paths' grey-level
    differences can compound (an ROI a pixel off crops a slightly different image), most where
    a landmark's heatmap confidence sits on the refinement threshold (0.5). Held in units of the
    person's torso length: the median gap stays within TRACKING_GAP_TORSO, a third of the
    agreement we hold against MediaPipe (0.03, test_tracking_accuracy)."""
    clip = str(sample_path("sports2d-demo.mp4"))
    _, on_gpu, _ = _track(clip, "blazepose-full", "gpu", 30, gpu)
    _, on_cpu, _ = _track(clip, "blazepose-full", "cpu", 30, gpu)
    gaps = []
    for a, b in zip(on_gpu, on_cpu, strict=True):
        if not (a.poses and b.poses):
            continue
        cpu = b.poses[0].keypoints[:, :2]
        torso = np.linalg.norm(cpu[[11, 12]].mean(0) - cpu[[23, 24]].mean(0))
        gaps.append(np.linalg.norm(a.poses[0].keypoints[:, :2] - cpu, axis=1) / torso)
    assert len(gaps) >= 25
    every = np.concatenate(gaps)
    print(f"GPU vs CPU over {len(gaps)} tracked frames: median {np.median(every):.4f} torso, "
          f"p90 {np.percentile(every, 90):.4f}")  # fmt: skip
    assert np.median(every) <= TRACKING_GAP_TORSO


def test_a_tracker_in_a_game_shares_its_gl_context_and_rendering_goes_on(showbase) -> None:
    """No second GL context beside a game's window: the game keeps rendering afterwards."""

    def background() -> np.ndarray:
        showbase.graphicsEngine.render_frame()
        shot = showbase.win.get_screenshot()
        pixels = np.frombuffer(bytes(shot.get_ram_image_as("RGBA")), np.uint8)
        return pixels.reshape(-1, 4)[:, :3].mean(axis=0)

    showbase.win.set_clear_color((0.8, 0.1, 0.1, 1))
    assert np.allclose(background(), (204, 25, 25), atol=3)
    choice = choose_backends("gpu", "gpu")
    assert choice.context.gsg == showbase.win.get_gsg()
    _track(str(sample_path("messi5.jpg")), "blazepose-full", "gpu", 1, None)
    assert np.allclose(background(), (204, 25, 25), atol=3)
