"""Per-pose cost of the VMC stream: what the host's frame pays, and what the sender's thread does.

The first frames of the Sports2D clip are tracked (BlazePose, CPU) with the mannequin driven,
and each frame's JointTargets kept. Those are replayed: the host's part (world rotations from the
targets, Unity axes and T-pose, the hand-over to the sender's queue: what VmcStreamSystem does
on a frame with a new pose) and the thread's part (the OSC bundle built by python-osc, one UDP
send to a loopback socket) are each timed with time.perf_counter, interleaved call by call.
Prints the CPU model, the bundle size and a table of median and p99 in microseconds per pose.

    EGL_PLATFORM=surfaceless .venv/bin/python benchmarks/vmc_cost.py [--calls 2000]
"""

import argparse
import os
import socket
import statistics
import time

# Mesa's EGL must pick the surfaceless platform before panda3d loads libEGL (tests/conftest.py)
os.environ.setdefault("EGL_PLATFORM", "surfaceless")

import esper  # noqa: E402
import numpy as np  # noqa: E402
from pythonosc.udp_client import UDPClient  # noqa: E402
from track_vs_mediapipe import machine  # noqa: E402 - benchmarks/ is sys.path[0]

from posetrack.characters import build_mannequin  # noqa: E402
from posetrack.components import TrackingConfig  # noqa: E402
from posetrack.components.character import CharacterBinding, JointTargets  # noqa: E402
from posetrack.downloads.samples import sample_path  # noqa: E402
from posetrack.motion.unity_bones import UnityHumanoid  # noqa: E402
from posetrack.motion.vmc import VmcFrame, VmcSender, build_bundle  # noqa: E402
from posetrack.systems.pose_tracking import PoseTrackingSystem  # noqa: E402

TRACKED_FRAMES = 40  # real poses to replay: the clip's first frames (lost ones included)
WARM_UP = 50  # calls not counted: caches and numpy's first-call overheads


def tracked_targets() -> tuple[list[JointTargets], object]:
    """JointTargets of the mannequin on the clip's first frames, and its skeleton."""
    esper.switch_world("vmc-cost")
    tracker = PoseTrackingSystem(
        str(sample_path("sports2d-demo.mp4")), TrackingConfig(device="cpu")
    )
    actor = build_mannequin()
    try:
        entity = tracker.drive(actor)
        targets = []
        for _ in tracker.results(TRACKED_FRAMES):
            targets.append(esper.component_for_entity(entity, JointTargets))
        skeleton = esper.component_for_entity(entity, CharacterBinding).skeleton
    finally:
        tracker.close()
        actor.cleanup()
    return targets, skeleton


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="timed calls of each part")
    args = parser.parse_args()
    targets, skeleton = tracked_targets()
    humanoid = UnityHumanoid.from_skeleton(skeleton)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a receiver that never reads:
    sink.bind(("127.0.0.1", 0))  # the kernel drops what overflows its buffer, sends succeed
    port = sink.getsockname()[1]
    sender = VmcSender("127.0.0.1", port)  # running, as in a game: its thread sends too
    client = UDPClient("127.0.0.1", port)  # the thread's work, timed inline below
    host_us, thread_us = [], []
    size = 0
    try:
        for call in range(WARM_UP + args.calls):
            t = targets[call % len(targets)]
            start = time.perf_counter()
            world = np.array([t.world_quats[b] for b in humanoid.bones])
            positions, rotations = humanoid.local_pose(world)
            frame = VmcFrame(t.time, bool(t.observed), humanoid.names, positions, rotations)
            sender.send(frame)  # the hand-over to the sender's thread
            middle = time.perf_counter()
            bundle = build_bundle(frame)
            client.send(bundle)
            end = time.perf_counter()
            if call >= WARM_UP:
                host_us.append((middle - start) * 1e6)
                thread_us.append((end - middle) * 1e6)
            size = len(bundle.dgram)
    finally:
        sender.close()
        client.close()
        sink.close()
    print(f"machine: {machine()}; bundle: {size} bytes, {len(humanoid.names)} bones")
    print("| part (per pose) | median us | p99 us |")
    print("|---|---|---|")
    for name, values in (("host frame: rotations + Unity axes", host_us),
                         ("sender thread: python-osc bundle + UDP send", thread_us)):  # fmt: skip
        p99 = float(np.percentile(values, 99))
        print(f"| {name} | {statistics.median(values):.0f} | {p99:.0f} |")


if __name__ == "__main__":
    main()
