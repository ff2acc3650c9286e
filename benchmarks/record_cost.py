"""What recording costs: buffering a character's joints per frame, and writing the files.

The mannequin is driven through its controlJoint NodePaths with a different rotation on every
joint every frame (so Panda3D recomputes the joints), and each frame MotionRecorder.capture
buffers them, as `tracking.record()` does after each new pose (actor.update + capture, timed
together with time.perf_counter). Then the clip is written as .bvh and .glb, each timed once
(that work happens at stop_recording() / close(), off the game's frames). Prints the CPU
model and a table: median and p99 per capture in microseconds, and the write times.

    .venv/bin/python benchmarks/record_cost.py [--frames 2000]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from panda3d.core import LQuaternionf
from track_vs_mediapipe import machine  # noqa: E402 - benchmarks/ is sys.path[0]

from posetrack.characters import build_mannequin, skeleton_from_actor
from posetrack.motion.recorder import MotionRecorder
from posetrack.systems.animate import control_joints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="captures to time")
    args = parser.parse_args()
    actor = build_mannequin()
    joints = list(control_joints(actor, skeleton_from_actor(actor)).values())
    recorder = MotionRecorder(actor, fps=30.0)
    rng = np.random.default_rng(0)
    turns = rng.normal(size=(args.frames, len(joints), 4)) * (0.1, 0.1, 0.1, 1.0)
    times = []
    for f in range(args.frames):
        for node, q in zip(joints, turns[f], strict=True):
            node.set_quat(LQuaternionf(*(q[[3, 0, 1, 2]] / np.linalg.norm(q))))
        start = time.perf_counter()
        actor.update(force=True)
        recorder.capture(f / 30.0)
        times.append(time.perf_counter() - start)
    us = np.array(times) * 1e6
    with tempfile.TemporaryDirectory() as tmp:
        writes = {}
        for suffix in (".bvh", ".glb"):
            start = time.perf_counter()
            recorder.write(Path(tmp) / f"take{suffix}")
            writes[suffix] = time.perf_counter() - start
    print(f"machine: {machine()}; mannequin, "
          f"{len(recorder.rig.names)} joints, {args.frames} frames")  # fmt: skip
    print("| what | median | p99 |")
    print("|---|---:|---:|")
    median, p99 = np.median(us), np.percentile(us, 99)
    print(f"| update + capture, per frame | {median:.0f} us | {p99:.0f} us |")
    for suffix, seconds in writes.items():
        print(f"| write {suffix} ({args.frames} frames, once) | {seconds:.2f} s | - |")
    actor.cleanup()


if __name__ == "__main__":
    main()
