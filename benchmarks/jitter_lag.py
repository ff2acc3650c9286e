"""Jitter and lag of the filter stage on real model output; prints a table.

Jitter: a still real photo repeated as a 30 fps video (the tracker re-crops it from its own
last landmarks each frame, so the model's answer wobbles as it would on a still webcam shot);
optionally with camera-like sensor noise added per frame (Gaussian, sigma in 8-bit levels).
The figure is the mean frame-to-frame angular speed of the 8 limbs (upper/lower arms, thighs,
shins) from the world landmarks, raw and filtered, after the first 15 frames (the tracker's own
ROI settling). Lag: the Sports2D clip (one person walking and jumping), the delay that best
aligns the filtered limb directions with the raw ones on frames where a limb turns fast
(10-60 deg per frame).

    .venv/bin/python benchmarks/jitter_lag.py [--frames 60] [--noise 0 2]
"""

import argparse
import tempfile
from pathlib import Path

import cv2
import esper
import numpy as np

from posetrack.components import PoseResult, TrackingConfig
from posetrack.components.character import FilterConfig
from posetrack.downloads.samples import sample_path
from posetrack.retarget.metrics import angular_speeds, lag_frames, limb_directions
from posetrack.stages.sources import ImageFilesSource
from posetrack.systems.filter import PoseFilter
from posetrack.systems.pose_tracking import PoseTrackingSystem

SETTLE_FRAMES = 15  # the tracker's ROI filter settles on a still shot within ~0.5 s


def track(source: object) -> list[PoseResult]:
    """Every frame's PoseResult of the default tracker over `source` (path or FrameSource)."""
    world = f"jitter-lag-{id(source)}"
    esper.switch_world(world)
    # the model docs/characters.md's table was measured with (auto would pick by machine)
    tracker = PoseTrackingSystem(source, TrackingConfig(model="blazepose-full"))
    try:
        return list(tracker.results())
    finally:
        tracker.close()
        esper.switch_world("default")
        esper.delete_world(world)


def still_video(image: Path, frames: int, noise: float, folder: Path) -> ImageFilesSource:
    """`image` repeated `frames` times at 30 fps, each copy with its own sensor noise."""
    if noise <= 0:
        return ImageFilesSource([image] * frames, f"{image.name} x{frames}", 30.0, sequence=True)
    pixels = cv2.imread(str(image)).astype(np.float64)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(frames):
        noisy = np.clip(pixels + rng.normal(0.0, noise, pixels.shape), 0, 255).astype(np.uint8)
        paths.append(folder / f"{image.stem}-{noise:g}-{i:03d}.png")
        cv2.imwrite(str(paths[-1]), noisy)
    return ImageFilesSource(paths, f"{image.name} x{frames} + noise {noise:g}", 30.0, True)


def filtered_directions(
    results: list[PoseResult], config: FilterConfig
) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
    """Per frame: raw and filtered world-landmark limb directions (None: no person)."""
    smooth = PoseFilter(config)
    raw, filtered = [], []
    for result in results:
        if not result.poses:
            smooth.reset()
            raw.append(None)
            filtered.append(None)
            continue
        pose = result.poses[0]
        names = result.keypoint_names
        raw.append(limb_directions(names, pose.world))
        filtered.append(limb_directions(names, smooth(result.time, pose).world))
    return raw, filtered


def jitter(results: list[PoseResult], config: FilterConfig) -> tuple[float, float]:
    """Mean limb angular speed (deg/frame) after settling: raw, filtered."""
    raw, filtered = filtered_directions(results, config)
    if any(r is None for r in raw[SETTLE_FRAMES:]):
        raise RuntimeError("the person was lost on the still shot")
    return (
        float(angular_speeds(raw[SETTLE_FRAMES:]).mean()),
        float(angular_speeds(filtered[SETTLE_FRAMES:]).mean()),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--noise", type=float, nargs="*", default=[0.0, 2.0])
    args = parser.parse_args()
    config = FilterConfig()
    print(f"filter: {config}")
    print("| still shot | sensor noise | raw deg/frame | filtered | cut |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("basketball1.png", "messi5.jpg"):
            for noise in args.noise:
                source = still_video(sample_path(name), args.frames, noise, Path(tmp))
                raw, smooth = jitter(track(source), config)
                print(f"| {name} | {noise:g} | {raw:.3f} | {smooth:.3f} | {1 - smooth / raw:.0%} |")
    clip = track(str(sample_path("sports2d-demo.mp4")))
    raw, filtered = filtered_directions(clip, config)
    print(f"\nlag on fast movement (Sports2D clip, 30 fps): {lag_frames(raw, filtered):.2f} frames")


if __name__ == "__main__":
    main()
