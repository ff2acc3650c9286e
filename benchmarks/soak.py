"""A long run of the plugin in a headless game: does anything grow?

`posetrack.init` (the live default) on the Sports2D clip looped, one driven mannequin, an
offscreen ShowBase stepping at a game's 60 Hz (20,000 frames: 5.6 minutes, ~10,000 tracked
clip frames at the clip's 30 fps). Every
--every game frames it prints the process's resident memory, open file descriptors, threads,
pose updates per second since the last line and the tracking status; at the end, each
resource's change from the first line after warm-up (the first --every frames) to the last.

    .venv/bin/python benchmarks/soak.py [--frames 20000] [--every 1000] [--loops 4]
"""

import argparse
import os
import time
from pathlib import Path

from track_vs_mediapipe import looped_clip, machine  # benchmarks/ is sys.path[0]

# the model the soak figures were measured with (auto would pick by machine)
MODEL = "blazepose-full"
GAME_HZ = 60.0  # a display's rate: the soak runs as long as a game's 20,000 frames take


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def threads() -> int:
    """The process's threads, every kind (Python's, ONNX Runtime's pools, Mesa's, FFmpeg's)."""
    return len(os.listdir("/proc/self/task"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000, help="game frames in all")
    parser.add_argument("--every", type=int, default=1000, help="game frames between lines")
    parser.add_argument(
        "--loops", type=int, default=4,
        help="the clip played this many times per tracker: each end starts a fresh tracker "
        "(4: ~10 restarts in 20,000 frames; 45: one tracker for the whole soak)",
    )  # fmt: skip
    args = parser.parse_args()

    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    from panda3d.core import load_prc_file_data

    from posetrack.stages.gpu_context import HEADLESS_PRC

    load_prc_file_data("soak", HEADLESS_PRC + "win-size 64 64\n")
    from direct.showbase.ShowBase import ShowBase

    import posetrack
    from posetrack.characters import build_mannequin
    from posetrack.downloads.samples import sample_path

    clip: Path = looped_clip(sample_path("sports2d-demo.mp4"), args.loops)
    base = ShowBase(windowType="offscreen")
    hero = build_mannequin()
    hero.reparent_to(base.render)
    # each end of the clip (4 loops: ~31 s) starts a fresh tracker, as a game that restarts
    # tracking would, so set-up and close() are soaked too
    tracking = posetrack.init(base, source=str(clip), device="cpu", model=MODEL)
    tracking.drive(hero)
    print(f"machine: {machine()}; {args.frames} game frames, a line every {args.every}")
    print("| frames | RSS MB | open files | threads | pose updates/s | status | restarts |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    rows: list[tuple[float, int, int]] = []
    last_frame, updates, restarts = -1, 0, 0
    start = next_frame = time.perf_counter()
    for frame in range(1, args.frames + 1):
        base.taskMgr.step()
        next_frame += 1.0 / GAME_HZ
        time.sleep(max(0.0, next_frame - time.perf_counter()))
        result = tracking.result
        if result is not None and result.frame != last_frame:
            last_frame, updates = result.frame, updates + 1
        if tracking.status.state == "ended":
            tracking.close()
            tracking = posetrack.init(base, source=str(clip), device="cpu", model=MODEL)
            tracking.drive(hero)
            last_frame, restarts = -1, restarts + 1
        if frame % args.every == 0:
            now = time.perf_counter()
            row = (rss_mb(), open_files(), threads())
            rows.append(row)
            rate = updates / (now - start)
            print(f"| {frame} | {row[0]:.1f} | {row[1]} | {row[2]} | {rate:.1f} | "
                  f"{tracking.status.state} | {restarts} |", flush=True)  # fmt: skip
            start, updates = now, 0
    tracking.close()
    base.destroy()
    if len(rows) >= 3:
        first, last = rows[1], rows[-1]  # after one interval of warm-up
        for name, a, b in zip(("RSS", "open files", "threads"), first, last, strict=True):
            print(f"{name}: {a:g} -> {b:g} ({(b - a) / a:+.1%} after warm-up)")


if __name__ == "__main__":
    main()
