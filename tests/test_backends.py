"""GPU and CPU paths give the same poses through the whole pipeline, and auto picks sensibly."""

import esper
import numpy as np
import pytest

from posetrack.backends import choose_backends
from posetrack.components import StageTimes, TrackerConfig
from posetrack.gpu import GpuContext
from posetrack.samples import sample_path
from posetrack.systems.pose_tracking import PoseTrackingSystem


@pytest.fixture
def gpu(showbase) -> GpuContext:
    """The test ShowBase's GL context, lent as a host game lends its own: one GL context per
    process (a second engine's context would leave Panda's direct GL calls on the wrong one)."""
    return GpuContext.from_showbase(showbase)


def _track(source: str, model: str, path: str, frames: int, gpu: GpuContext, max_poses: int = 1):
    esper.switch_world(f"test-backends-{model}-{path}")
    config = TrackerConfig(model=model, device="cpu", preprocess=path, decode=path)
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


@pytest.mark.parametrize(
    ("sample", "model", "max_poses"),
    [("messi5.jpg", "blazepose-full", 1), ("basketball2.png", "posenet", 6)],
)
def test_gpu_and_cpu_paths_give_the_same_poses(
    sample: str, model: str, max_poses: int, gpu: GpuContext
) -> None:
    source = str(sample_path(sample))
    gpu_backends, on_gpu, transfers = _track(source, model, "gpu", 1, gpu, max_poses)
    cpu_backends, on_cpu, cpu_transfers = _track(source, model, "cpu", 1, gpu, max_poses)
    assert (gpu_backends["preprocess"], gpu_backends["decode"]) == ("gpu", "gpu")
    assert (cpu_backends["preprocess"], cpu_backends["decode"]) == ("cpu", "cpu")
    assert len(on_gpu[0].poses) == len(on_cpu[0].poses) >= 1
    for a, b in zip(on_gpu[0].poses, on_cpu[0].poses, strict=True):
        assert np.abs(a.keypoints - b.keypoints).max() < 1e-3
    up, down = transfers[0]
    assert down["preprocess"] > 0 and up["decode"] > 0  # every host round trip is counted
    # K x 4 floats, or PoseNet's candidate list: never the heatmaps (>= 42,500 bytes)
    assert 0 < down["decode"] <= 1028
    assert cpu_transfers[0] == ({"preprocess": 0, "decode": 0}, {"preprocess": 0, "decode": 0})


def test_tracking_a_clip_on_either_path_stays_together(gpu: GpuContext) -> None:
    """Frame by frame the paths agree to 1e-4 px; tracking feeds each frame's landmarks into
    the next crop, so those differences can grow where a landmark's heatmap confidence sits on
    the refinement threshold (0.5). Most keypoints stay within a pixel."""
    clip = str(sample_path("sports2d-demo.mp4"))
    _, on_gpu, _ = _track(clip, "blazepose-full", "gpu", 30, gpu)
    _, on_cpu, _ = _track(clip, "blazepose-full", "cpu", 30, gpu)
    gaps = [
        np.linalg.norm(a.poses[0].keypoints[:, :2] - b.poses[0].keypoints[:, :2], axis=1)
        for a, b in zip(on_gpu, on_cpu, strict=True)
        if a.poses and b.poses
    ]
    assert len(gaps) >= 25
    assert np.median(np.concatenate(gaps)) < 0.5


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
