"""Cross-camera consistency, left/right swaps and 3D limb directions on four calibrated views.

Pose2Sim's demo (samples pose2sim-single-cam01..04.mp4: one person walking and turning, four
synchronised 1080x1920 60 fps views, Qualisys calibration pose2sim-calib.qca.txt) is tracked
view by view with `posetrack track --character mannequin` (the real pipeline and the real
driven mannequin), once with the corrections off (`--no-fix-swaps --no-bone-depth`: before)
and once with the defaults (after). Per model and setting it prints:

- consistency: the 12 body joints (shoulders .. ankles) triangulated from the four views (DLT
  weighted by visibility, distortion undone) and reprojected: median and mean pixel error over
  views, frames and joints (a swap in one view drags the mean);
- swaps per view: frames (and runs of frames) where a view's arms or legs are labelled the
  other way round from the body the views agree on (tests/multiview.py: count_swaps);
- limb directions per view: degrees between each limb (upper/lower arm and leg, both sides)
  of the reference 3D, turned into that camera's axes, and (a) the stream's world landmarks,
  (b) the driven character's limb; median and p90. The reference 3D is blazepose-heavy's
  triangulation with no corrections (its reprojection error is the smallest, it has no swaps).

and the cost of the bone-depth solve (retarget/depth.py) and of the swap correction
(stages/swaps.py) per person per frame on this CPU, and
the swap count on the Sports2D clip (side views, no calibration: a frame of the model counts as
swapped when its legs or arms match blazepose-heavy's labels better exchanged).

    .venv/bin/python benchmarks/multiview_consistency.py                 # full and heavy
    .venv/bin/python benchmarks/multiview_consistency.py --models blazepose-full --fresh

Tracked streams are cached under ~/.cache/posetrack/bench/multiview (--fresh: track again, as
needed after a change to the code).
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from multiview import (  # noqa: E402  (tests/ helpers: calibration, triangulation, metrics)
    BODY,
    ViewTrack,
    body_3d,
    count_swaps,
    limb_angles,
    load_qca,
    read_stream,
    reprojection_errors,
    swap_runs,
)

from posetrack.components import PoseEstimate, PoseResult  # noqa: E402
from posetrack.downloads.cache import cache_dir  # noqa: E402
from posetrack.downloads.samples import sample_path  # noqa: E402
from posetrack.retarget.depth import BoneDepth  # noqa: E402
from posetrack.stages.swaps import SwapGuard  # noqa: E402

VIEWS = tuple(f"pose2sim-single-cam0{i}.mp4" for i in (1, 2, 3, 4))
SETTINGS = {"before": ("--no-fix-swaps", "--no-bone-depth"), "after": ()}


def track(source: Path, model: str, setting: str, fresh: bool, extra: tuple = ()) -> Path:
    """The pose stream of `source` (cached), with the mannequin driven."""
    out = cache_dir() / "bench" / "multiview" / f"{model}-{setting}-{source.stem}.jsonl"
    if out.is_file() and not fresh:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "posetrack", "track", str(source), "--model", model,
               "--out", str(out), *SETTINGS[setting], *extra]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return out


def views_of(model: str, setting: str, fresh: bool) -> list[ViewTrack]:
    return [
        read_stream(track(sample_path(v), model, setting, fresh, ("--character", "mannequin")))
        for v in VIEWS
    ]


def limb_row(cameras: list, reference: np.ndarray, views: list[ViewTrack]) -> list[str]:
    cells = []
    for v, view in enumerate(views):
        world = limb_angles(cameras, reference, v, view.body_world())
        character = limb_angles(cameras, reference, v, view.character)
        cells.append(
            f"{np.nanmedian(world):.1f}/{np.nanpercentile(world, 90):.1f} -> "
            f"{np.nanmedian(character):.1f}/{np.nanpercentile(character, 90):.1f}"
        )
    return cells


def depth_cost_ms(view: ViewTrack, size: tuple[int, int], repeats: int = 5) -> float:
    """Median ms of one BoneDepth call over the view's frames (repeated)."""
    times = []
    for _ in range(repeats):
        depth = BoneDepth(view.names)
        for keypoints, world in zip(view.keypoints, view.world, strict=True):
            if np.isfinite(world).all():
                start = time.perf_counter()
                depth(keypoints, world, size)
                times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def swap_cost_ms(view: ViewTrack, fps: float, repeats: int = 5) -> float:
    """Median ms of one SwapGuard call over the view's frames (repeated)."""
    times = []
    for _ in range(repeats):
        guard = SwapGuard(view.names)
        for i, (keypoints, world) in enumerate(zip(view.keypoints, view.world, strict=True)):
            result = PoseResult(i, i / fps, view.names, [PoseEstimate(keypoints, 1.0, world)])
            start = time.perf_counter()
            guard(result)
            times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def sports2d_swaps(model: str, fresh: bool) -> dict[str, int]:
    """Frames of `model` on the Sports2D clip whose arms/legs match heavy's exchanged, before
    and after (no smoothing: the model's own labels, or the correction's)."""
    clip = sample_path("sports2d-demo.mp4")
    heavy = read_stream(track(clip, "blazepose-heavy", "before", fresh, ("--no-smooth",)))
    out = {}
    for setting in SETTINGS:
        mine = read_stream(track(clip, model, setting, fresh, ("--no-smooth",)))
        count = 0
        for part in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle")):
            left = [mine.names.index(f"left_{j}") for j in part]
            right = [mine.names.index(f"right_{j}") for j in part]
            a, b = mine.keypoints[:, :, :2], heavy.keypoints[:, :, :2]
            keep = np.linalg.norm(a[:, left] - b[:, left], axis=2).sum(1) + np.linalg.norm(
                a[:, right] - b[:, right], axis=2
            ).sum(1)
            swap = np.linalg.norm(a[:, left] - b[:, right], axis=2).sum(1) + np.linalg.norm(
                a[:, right] - b[:, left], axis=2
            ).sum(1)
            count += int(np.nansum(swap < 0.5 * keep))
        out[setting] = count
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["blazepose-full", "blazepose-heavy"])
    parser.add_argument("--fresh", action="store_true", help="track again (ignore the cache)")
    args = parser.parse_args()
    cameras = load_qca(sample_path("pose2sim-calib.qca.txt"))
    reference = body_3d(cameras, views_of("blazepose-heavy", "before", args.fresh))
    print(f"reference 3D: blazepose-heavy, no corrections; {len(BODY)} joints, 4 views")
    print("| model | setting | consistency median / mean px | swap frames (runs) per view, "
          "arms+legs | limb deg world -> character (median/p90), cam01 .. cam04 |")  # fmt: skip
    print("|---|---|---|---|---|")
    for model in args.models:
        for setting in SETTINGS:
            views = views_of(model, setting, args.fresh)
            body = body_3d(cameras, views)
            err = reprojection_errors(cameras, views, body)
            swaps = count_swaps(cameras, views)
            per_view = [
                f"{int(swaps[v].sum())} ({sum(swap_runs(swaps[v, :, p]) for p in range(2))})"
                for v in range(len(views))
            ]
            limbs = "; ".join(limb_row(cameras, reference, views))
            print(f"| {model} | {setting} | {np.nanmedian(err):.1f} / {np.nanmean(err):.1f} | "
                  f"{', '.join(per_view)} | {limbs} |")  # fmt: skip
    view = views_of("blazepose-full", "after", args.fresh)[0]
    size = (view.header["width"], view.header["height"])
    print(
        f"\nbone-depth solve: {depth_cost_ms(view, size):.3f} ms per person per frame "
        "(median, blazepose-full's stream of cam01)"
    )
    before = views_of("blazepose-full", "before", args.fresh)[1]
    print(f"swap correction: {swap_cost_ms(before, view.header['fps']):.3f} ms per person per "
          "frame (median, blazepose-full's uncorrected stream of cam02)")  # fmt: skip
    for model in args.models:
        if model != "blazepose-heavy":
            print(
                f"Sports2D swaps vs blazepose-heavy, {model}: {sports2d_swaps(model, args.fresh)}"
            )
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
