"""Each model on each path (CPU / GPU compute shaders): stage medians, bytes per frame, fps.

    .venv/bin/python benchmarks/pipeline_backends.py [--frames 90] [--models blazepose-full,...]

Runs PoseTrackingSystem in this process on the Sports2D clip, CPU inference (ORT), one model
and path after another, and prints a markdown table. On Mesa's llvmpipe the "GPU" path runs on
the CPU cores too: its times say what the software renderer costs, not what a GPU would.
"""

import argparse
import os
import platform
import statistics
import time

import esper

from posetrack.components import StageTimes, TrackingConfig
from posetrack.downloads.samples import sample_path
from posetrack.stages.backends import choose_backends
from posetrack.systems.pose_tracking import PoseTrackingSystem

STAGES = ("detect", "preprocess", "inference", "decode")


def run(clip: str, model: str, path: str, frames: int) -> dict[str, float]:
    esper.switch_world(f"bench-{model}-{path}")
    config = TrackingConfig(model=model, device="auto", preprocess=path, decode=path)
    tracker = PoseTrackingSystem(clip, config, max_poses=6 if model == "posenet" else 1)
    ms: dict[str, list[float]] = {s: [] for s in STAGES}
    up: list[int] = []
    down: list[int] = []
    done = 0
    start = time.perf_counter()
    try:
        for _ in tracker.results(frames):
            done += 1
            times = esper.component_for_entity(tracker.entity, StageTimes)
            for stage in STAGES:
                ms[stage].append(times.ms.get(stage, 0.0))
            up.append(sum(times.bytes_up.values()))
            down.append(sum(times.bytes_down.values()))
        elapsed = time.perf_counter() - start
    finally:
        tracker.close()
        esper.switch_world("default")
    row = {s: statistics.median(v) for s, v in ms.items()}
    row |= {"up": statistics.median(up), "down": statistics.median(down), "fps": done / elapsed}
    return row


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--models", default="blazepose-full,posenet,movenet-lightning")
    args = parser.parse_args()
    clip = str(sample_path("sports2d-demo.mp4"))
    renderer = choose_backends("gpu", "gpu").renderer
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical cores")
    print(f"GL renderer: {renderer}")
    print(f"clip: Sports2D 1768x994, first {args.frames} frames; medians per frame\n")
    print("| model | path | detect ms | preprocess ms | inference ms | decode ms "
          "| bytes up | bytes down | fps |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for model in args.models.split(","):
        for path in ("cpu", "gpu"):
            r = run(clip, model, path, args.frames)
            print(f"| {model} | {path} | {r['detect']:.2f} | {r['preprocess']:.2f} | "
                  f"{r['inference']:.2f} | {r['decode']:.2f} | {r['up']:,.0f} | "
                  f"{r['down']:,.0f} | {r['fps']:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
