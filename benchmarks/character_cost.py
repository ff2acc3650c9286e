"""Per-frame cost of driving characters: the retarget and animate stages on real poses.

The Sports2D clip is tracked once (BlazePose, CPU, the default tracker) and smoothed by the
filter stage; those FilteredPose frames are then replayed, one new frame per call, into two
esper worlds: one with 1 mannequin, one with 4, each bound to the replayed tracker entity.
Every call of RetargetSystem.process (one solve per character) and AnimateSystem.process (one
eased step of every joint of every character) is timed with time.perf_counter; the variants
are interleaved call by call so machine noise hits all of them alike. Prints the CPU model and
a table of median and p99 in milliseconds per call (after warm-up calls that are not counted).

    EGL_PLATFORM=surfaceless .venv/bin/python benchmarks/character_cost.py [--calls 400]
"""

import argparse
import os
import time
from dataclasses import replace

# Mesa's EGL must pick the surfaceless platform before panda3d loads libEGL (tests/conftest.py)
os.environ.setdefault("EGL_PLATFORM", "surfaceless")

import esper  # noqa: E402
import numpy as np  # noqa: E402
from panda3d.core import load_prc_file_data  # noqa: E402
from track_vs_mediapipe import machine  # noqa: E402 - benchmarks/ is sys.path[0]

from posetrack.characters import build_mannequin, skeleton_from_actor  # noqa: E402
from posetrack.components import (
    PoseResult,  # noqa: E402
    TrackingConfig,  # noqa: E402
)
from posetrack.components.character import (  # noqa: E402
    CharacterBinding,
    FilteredPose,
    JointTargets,
)
from posetrack.downloads.samples import sample_path  # noqa: E402
from posetrack.retarget import RetargetConfig  # noqa: E402
from posetrack.stages.gpu_context import HEADLESS_PRC  # noqa: E402
from posetrack.systems.animate import AnimateSystem  # noqa: E402
from posetrack.systems.filter import FilterSystem  # noqa: E402
from posetrack.systems.pose_tracking import PoseTrackingSystem  # noqa: E402
from posetrack.systems.retarget import RetargetSystem  # noqa: E402

RENDER_DT_S = 1 / 60  # the animate stage's clock: a 60 Hz render


def tracked_frames(frames: int) -> list[FilteredPose]:
    """The clip's first `frames` frames: tracked, then smoothed by the filter stage."""
    esper.switch_world("character-cost-track")
    # the model the README's figures were measured with (auto would pick by machine)
    tracker = PoseTrackingSystem(
        str(sample_path("sports2d-demo.mp4")), TrackingConfig(model="blazepose-full")
    )
    try:
        results: list[PoseResult] = list(tracker.results(max_frames=frames))
    finally:
        tracker.close()
    entity = esper.create_entity()
    smooth = FilterSystem()
    out = []
    for result in results:
        esper.add_component(entity, result)
        smooth.process()
        out.append(esper.component_for_entity(entity, FilteredPose))
    esper.switch_world("default")
    esper.delete_world("character-cost-track")
    return out


class Scene:
    """An esper world with `count` mannequins driven by one replayed tracker entity."""

    def __init__(self, count: int) -> None:
        self.world = f"character-cost-{count}"
        esper.switch_world(self.world)
        self.tracker = esper.create_entity()
        self.actors = [build_mannequin() for _ in range(count)]
        for actor in self.actors:
            skeleton = skeleton_from_actor(actor)
            esper.create_entity(CharacterBinding(self.tracker, RetargetConfig(), actor, skeleton))
        self.retarget = RetargetSystem()
        self.animate = AnimateSystem(clock=lambda: RENDER_DT_S)
        esper.switch_world("default")

    def step(self, pose: FilteredPose, times: dict[str, list[float]], label: str) -> None:
        """Hand the tracker one new frame, then time one retarget and one animate call."""
        esper.switch_world(self.world)
        esper.add_component(self.tracker, pose)
        start = time.perf_counter()
        self.retarget.process()
        middle = time.perf_counter()
        self.animate.process()
        end = time.perf_counter()
        times[f"retarget {label}"].append(middle - start)
        times[f"animate {label}"].append(end - middle)
        esper.switch_world("default")

    def check(self) -> None:
        """Every character got targets (the timed calls did the work)."""
        esper.switch_world(self.world)
        assert len(esper.get_component(JointTargets)) == len(self.actors)
        esper.switch_world("default")

    def close(self) -> None:
        for actor in self.actors:
            actor.cleanup()
        esper.delete_world(self.world)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120, help="clip frames to track")
    parser.add_argument("--calls", type=int, default=400, help="timed calls per variant")
    parser.add_argument("--warmup", type=int, default=40, help="untimed calls per variant")
    args = parser.parse_args()

    load_prc_file_data("character-cost", HEADLESS_PRC)
    from direct.showbase.ShowBase import ShowBase  # after the PRC: it opens the window

    base = ShowBase(windowType="offscreen")
    poses = tracked_frames(args.frames)
    seen = sum(p.pose is not None for p in poses)
    scenes = {"1 char": Scene(1), "4 chars": Scene(4)}
    times: dict[str, list[float]] = {
        f"{stage} {label}": [] for label in scenes for stage in ("retarget", "animate")
    }
    for call in range(args.warmup + args.calls):
        if call == args.warmup:
            times = {k: [] for k in times}
        # a new frame number every call, so each call solves; the order alternates
        pose = replace(poses[call % len(poses)], frame=call)
        order = list(scenes.items()) if call % 2 == 0 else list(scenes.items())[::-1]
        for label, scene in order:
            scene.step(pose, times, label)
    for scene in scenes.values():
        scene.check()
        scene.close()
    base.destroy()

    print(f"machine: {machine()}")
    print(f"input: {len(poses)} tracked Sports2D frames ({seen} with a person), replayed")
    print(f"{args.calls} timed calls per variant after {args.warmup} warm-up calls, interleaved")
    print(f"{'stage':<20}{'median ms':>12}{'p99 ms':>12}")
    for name, values in times.items():
        ms = 1000.0 * np.array(values)
        print(f"{name:<20}{np.median(ms):>12.3f}{np.percentile(ms, 99):>12.3f}")
    for label in scenes:
        both = 1000.0 * (np.array(times[f"retarget {label}"]) + times[f"animate {label}"])
        print(f"{'both ' + label:<20}{np.median(both):>12.3f}{np.percentile(both, 99):>12.3f}")


if __name__ == "__main__":
    main()
