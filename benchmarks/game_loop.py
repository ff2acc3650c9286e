"""What pose tracking costs a game's frame: a 60 Hz headless game loop, with and without it.

One process, one offscreen ShowBase (64 x 64, a cheap scene of mannequins), the host's own
60 Hz frame limiter. Variants, alternated round by round so machine drift hits all alike:
    none        the scene alone, no tracking
    lockstep-1  posetrack.init(live=False): every stage in the game's frame (before this
                pipeline), one driven mannequin
    live-1      posetrack.init() (the default): pose stages on a worker, one driven mannequin
    live-4      the same, four driven mannequins
Per variant: the main-thread milliseconds posetrack takes per game frame (its processor's
process(), timed from outside: median, p99), the game's work per frame (median), game frames per
second achieved against the 60 Hz target, pose updates per second, capture -> joints latency
(median, p95; taken right after the joints were set) and frames dropped. The clip: Sports2D's
demo (30 fps), looped so a round never runs dry.

    .venv/bin/python benchmarks/game_loop.py [--seconds 6] [--repeats 2] [--variants ...]
"""

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from track_vs_mediapipe import looped_clip, machine  # benchmarks/ is sys.path[0]

from posetrack.stages.handover import percentile

GAME_HZ = 60.0  # the host's frame rate: a 60 Hz display
VARIANTS = ("none", "lockstep-1", "live-1", "live-4")
WINDOW = "win-size 64 64\n"  # a cheap scene: the figures are about posetrack, not rendering


@dataclass
class Round:
    frame_work_ms: list[float] = field(default_factory=list)  # the whole frame's work
    posetrack_ms: list[float] = field(default_factory=list)  # posetrack's process() alone
    latency_ms: list[float] = field(default_factory=list)  # capture -> joints set
    frames: int = 0
    updates: int = 0  # new poses applied
    dropped: int = 0
    seconds: float = 0.0


def run_round(  # noqa: ANN201
    base,
    variant: str,
    clip: Path,
    seconds: float,
    model: str,
    vmc: str = "",  # noqa: ANN001
) -> Round:
    """One variant for `seconds` of game time at GAME_HZ; everything it made is removed."""
    import posetrack
    from posetrack.characters import build_mannequin

    count = 4 if variant.endswith("-4") else 1
    actors = [build_mannequin() for _ in range(count)]
    for i, actor in enumerate(actors):
        actor.reparent_to(base.render)
        actor.set_x(1.2 * i)
    out = Round()
    tracking = None
    if variant != "none":
        tracking = posetrack.init(base, source=str(clip), device="cpu", model=model, vmc=vmc,
                                  live=variant.startswith("live"))  # fmt: skip
        for actor in actors:
            tracking.drive(actor)
        _time_process(tracking, out)
    try:
        _loop(base, seconds, out, tracking)
    finally:
        if tracking is not None:
            out.dropped = tracking.dropped_frames
            tracking.close()
        for actor in actors:
            actor.cleanup()
            actor.remove_node()
    return out


def _time_process(tracking, out: Round) -> None:  # noqa: ANN001
    """Wrap the processor's process() (esper calls the instance's attribute) with a timer."""
    inner: Callable[..., None] = tracking.process
    last = {"frame": -1}

    def timed(*args: object, **kwargs: object) -> None:
        start = time.perf_counter()
        inner(*args, **kwargs)
        done = time.perf_counter()
        out.posetrack_ms.append((done - start) * 1000.0)
        result = tracking.result
        if result is not None and result.frame != last["frame"]:
            last["frame"] = result.frame
            out.updates += 1
            if result.poses:  # the joints were set in this call: capture -> joints
                out.latency_ms.append((done - result.t_capture) * 1000.0)

    tracking.process = timed


def _loop(base, seconds: float, out: Round, tracking) -> None:  # noqa: ANN001
    step = 1.0 / GAME_HZ
    # warm-up: the first model runs and shader builds are not a steady frame
    warm_until = time.perf_counter() + 1.0
    while time.perf_counter() < warm_until:
        base.taskMgr.step()
    out.posetrack_ms.clear()
    out.latency_ms.clear()
    out.updates = 0
    start = next_frame = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        base.taskMgr.step()
        out.frame_work_ms.append((time.perf_counter() - now) * 1000.0)
        out.frames += 1
        next_frame += step
        delay = next_frame - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            next_frame = time.perf_counter()  # late: the next frame starts now, no catch-up
    out.seconds = time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="game time per round")
    parser.add_argument("--repeats", type=int, default=2, help="rounds per variant")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    # the README's table was measured with blazepose-full; auto picks by machine
    parser.add_argument("--model", default="blazepose-full", help="pose model (or auto)")
    parser.add_argument("--vmc", default="", metavar="HOST:PORT",
                        help="also stream each pose over VMC (no receiver needed)")  # fmt: skip
    args = parser.parse_args()

    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    from panda3d.core import load_prc_file_data

    from posetrack.stages.gpu_context import HEADLESS_PRC

    load_prc_file_data("game-loop-bench", HEADLESS_PRC + WINDOW)
    from direct.showbase.ShowBase import ShowBase

    from posetrack.downloads.samples import sample_path

    clip = looped_clip(sample_path("sports2d-demo.mp4"), 4)
    base = ShowBase(windowType="offscreen")
    base.disable_mouse()
    print(f"machine: {machine()}; {platform.python_version()}; CPU path, {args.model}")
    print(f"{GAME_HZ:.0f} Hz game loop, {args.seconds:.0f} s rounds, {args.repeats} repeats, "
          f"alternating; clip {clip.name} (30 fps)")  # fmt: skip
    rounds: dict[str, list[Round]] = {v: [] for v in args.variants}
    for repeat in range(args.repeats):
        for variant in args.variants:
            r = run_round(base, variant, clip, args.seconds, args.model, args.vmc)
            rounds[variant].append(r)
            print(f"  round {repeat + 1} {variant:10s}: {r.frames / r.seconds:5.1f} fps, "
                  f"posetrack median {_median(r.posetrack_ms):5.2f} ms", flush=True)  # fmt: skip
    base.destroy()

    print("\n| variant | posetrack ms/frame median | p99 | frame work ms median | game fps "
          "| pose updates/s | capture->joints ms median | p95 | dropped |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for variant, rs in rounds.items():
        ms = [m for r in rs for m in r.posetrack_ms]
        work = [m for r in rs for m in r.frame_work_ms]
        lat = [m for r in rs for m in r.latency_ms]
        seconds = sum(r.seconds for r in rs)
        fps = sum(r.frames for r in rs) / seconds
        updates = sum(r.updates for r in rs) / seconds
        dropped = sum(r.dropped for r in rs)
        cells = ["-"] * 6
        if variant != "none":
            p99, p95 = percentile(ms, 0.99), percentile(lat, 0.95)
            cells = [f"{_median(ms):.2f}", f"{p99:.2f}", f"{updates:.1f}",
                     f"{_median(lat):.1f}", f"{p95:.1f}", str(dropped)]  # fmt: skip
        row = [variant, *cells[:2], f"{_median(work):.2f}", f"{fps:.1f}", *cells[2:]]
        print("| " + " | ".join(row) + " |")
    if "none" in rounds:
        base_fps = sum(r.frames for r in rounds["none"]) / sum(r.seconds for r in rounds["none"])
        for variant, rs in rounds.items():
            if variant != "none":
                fps = sum(r.frames for r in rs) / sum(r.seconds for r in rs)
                print(f"game fps with {variant} / without tracking: {fps / base_fps:.2f}")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


if __name__ == "__main__":
    main()
