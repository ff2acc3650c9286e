"""Memory across tracker restarts: does each new tracker leave memory behind?

A game may start and close tracking many times (menus, levels). This makes --restarts
trackers one after another on the Sports2D clip (CPU paths, a few frames each, no game loop)
and prints the process's resident memory every --every restarts. A leak grows with the count;
an allocator keeping freed pages (ONNX Runtime's arenas, glibc's heaps) levels off.

    .venv/bin/python benchmarks/tracker_restarts.py [--restarts 40] [--every 5]
"""

import argparse
import os

from soak import open_files, rss_mb, threads  # benchmarks/ is sys.path[0]
from track_vs_mediapipe import machine

FRAMES = 5  # per tracker: enough to run every stage, the ORT sessions included


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=40)
    parser.add_argument("--every", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    from posetrack.components.tracker import TrackingConfig
    from posetrack.downloads.samples import sample_path
    from posetrack.systems.pose_tracking import PoseTrackingSystem

    clip = str(sample_path("sports2d-demo.mp4"))
    config = TrackingConfig(model="blazepose-full", device="cpu", preprocess="cpu", decode="cpu")
    print(f"machine: {machine()}; {args.restarts} trackers, {FRAMES} frames each")
    print("| trackers | RSS MB | open files | threads |")
    print("|---:|---:|---:|---:|")
    for count in range(1, args.restarts + 1):
        tracker = PoseTrackingSystem(clip, config)
        for _ in range(FRAMES):
            tracker.process()
        tracker.close()
        if count % args.every == 0:
            print(f"| {count} | {rss_mb():.1f} | {open_files()} | {threads()} |", flush=True)


if __name__ == "__main__":
    main()
