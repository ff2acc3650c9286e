"""The synthetic closed loop: known 3D motion in, tracked 3D out, compared limb by limb.

The mannequin walks in place, raises an arm sideways, another forward, turns to profile, to
its back and round to the front (tests/synthetic_motion.py); real Panda3D renders it in a
furnished room from each camera (tests/synthetic_scene.py: 1280x720, 60 deg field of view,
sensor noise); `posetrack track` tracks each sequence as a user runs it, once per variant,
driving a second mannequin with the pose. Printed per variant, camera and metric (the world
landmarks, the driven character): frames with a pose, the median and 90th percentile of the
angle between tracked and true limb directions (upper/lower arm and leg, both sides), and
left/right swaps per minute (tests/synthetic_compare.py says how a swap is counted). The
"world, body turn removed" rows take out the whole body's orientation error frame by frame.

    EGL_PLATFORM=surfaceless .venv/bin/python benchmarks/synthetic_loop.py --frames 240
    ... --variant "heavy=--model blazepose-heavy" --variant "heavy-raw=--model blazepose-heavy
        --no-smooth"

A variant is NAME=ARGS: ARGS are `posetrack track` options (any TrackingConfig flag), so a
correction with an on/off flag is compared by passing both. Default variants: blazepose-full
and blazepose-heavy, smoothing on (what a game gets).
"""

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("EGL_PLATFORM", "surfaceless")  # before panda3d loads libEGL
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the scene, motion and comparison helpers

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from panda3d.core import load_prc_file_data  # noqa: E402
from synthetic_compare import (  # noqa: E402
    LIMBS,
    METRICS,
    LoopResult,
    compare,
    render_sequence,
    track,
)
from synthetic_scene import CAMERAS, FPS, SyntheticScene  # noqa: E402

from posetrack.stages.gpu_context import HEADLESS_PRC  # noqa: E402

# the sheet's moments: walking, left arm up, turning, profile with the right arm up, back, front
SHEET_TIMES = (0.3, 1.5, 2.9, 3.8, 5.2, 7.0)
SHEET_TILE = (320, 180)  # a quarter of 1280x720: six across make a 1920 px wide sheet
DEFAULT_VARIANTS = ("blazepose-full=--model blazepose-full",
                    "blazepose-heavy=--model blazepose-heavy")  # fmt: skip


def _variant(text: str) -> tuple[str, list[str]]:
    name, sep, args = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"a variant is NAME=ARGS, got {text!r}")
    return name.strip(), shlex.split(args)


def _frames(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 2:
        raise argparse.ArgumentTypeError(f"--frames takes a whole number >= 2, got {text!r}")
    return value


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=_frames, default=240,
                        help="frames per camera at 30 fps (default 240: the whole 8 s "
                        "sequence)")  # fmt: skip
    parser.add_argument("--cameras", default=",".join(CAMERAS),
                        help=f"comma-separated, of {', '.join(CAMERAS)} (default: "
                        "all)")  # fmt: skip
    parser.add_argument("--variant", type=_variant, action="append",
                        help="NAME=ARGS: `posetrack track` options to compare (repeatable; "
                        "default: blazepose-full and blazepose-heavy)")  # fmt: skip
    parser.add_argument("--limbs", action="store_true", help="also print the median per limb")
    parser.add_argument("--render-only", action="store_true", help="render (--keep, --sheet) only")
    parser.add_argument("--sheet", type=Path, metavar="IMAGE",
                        help="also write a contact sheet: SHEET_TIMES of each camera")  # fmt: skip
    parser.add_argument(
        "--faceless", action="store_true", help="leave the face off the mannequin (nose and hair)"
    )
    parser.add_argument(
        "--keep", type=Path, help="render into this folder and keep the frames, truth and streams"
    )
    args = parser.parse_args(argv)
    args.variant = args.variant or [_variant(v) for v in DEFAULT_VARIANTS]
    unknown = [c for c in args.cameras.split(",") if c not in CAMERAS]
    if unknown:
        parser.error(f"unknown camera {', '.join(unknown)}; cameras: {', '.join(CAMERAS)}")
    return args


def render_all(names: list[str], frames: int, work: Path, face: bool) -> dict[str, list]:
    """Every camera's sequence, rendered once (the variants all track the same pictures)."""
    load_prc_file_data("synthetic-loop", HEADLESS_PRC)
    from direct.showbase.ShowBase import ShowBase

    base = ShowBase(windowType="offscreen")
    scene = SyntheticScene(base, face=face)
    try:
        return {name: render_sequence(scene, CAMERAS[name], frames, work / name) for name in names}
    finally:
        scene.close()
        base.destroy()


def row(variant: str, camera: str, metric: str, result: LoopResult) -> str:
    errors = result.all_errors
    median = f"{np.median(errors):6.1f}" if len(errors) else "     -"
    p90 = f"{np.percentile(errors, 90):6.1f}" if len(errors) else "     -"
    detected = f"{result.detected}/{result.frames}"
    return (f"| {variant} | {camera} | {metric} | {detected} | {median} | {p90} | "
            f"{result.swaps_per_minute():6.1f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cameras = args.cameras.split(",")
    with tempfile.TemporaryDirectory(prefix="synthetic-loop-") as temp:
        work = args.keep or Path(temp)
        start = time.perf_counter()
        truths = render_all(cameras, args.frames, work, not args.faceless)
        seconds = time.perf_counter() - start
        print(f"rendered {args.frames} frames x {len(cameras)} cameras in {seconds:.0f} s "
              f"({args.frames / FPS:.1f} s of motion)")  # fmt: skip
        if args.sheet:
            contact_sheet(work, cameras, args.frames, args.sheet)
        if args.render_only:
            return 0
        print("\n| variant | camera | metric | frames with a pose | median deg | p90 deg | "
              "swaps/min |\n|---|---|---|---|---|---|---|")  # fmt: skip
        limbs = []  # (variant, camera, metric, result) for the per-limb table
        for name, extra in args.variant:
            pooled = {m: LoopResult(0, 0) for m in METRICS}
            for camera in cameras:
                lines = track(work / camera, work / f"{camera}.{name}.jsonl", *extra)
                for metric in METRICS:
                    result = compare(lines, truths[camera], metric)
                    print(row(name, camera, metric, result), flush=True)
                    _pool(pooled[metric], result)
                    limbs.append((name, camera, metric, result))
            if len(cameras) > 1:
                for metric in METRICS:
                    print(row(name, "all", metric, pooled[metric]), flush=True)
        if args.limbs:
            print_limbs(limbs)
    return 0


def contact_sheet(work: Path, cameras: list[str], frames: int, out: Path) -> None:
    """One row per camera: the rendered frames at SHEET_TIMES (those within `frames`)."""
    indices = [round(t * FPS) for t in SHEET_TIMES if round(t * FPS) < frames]
    rows = [
        np.hstack([cv2.resize(cv2.imread(str(work / c / f"frame{i:04d}.png")), SHEET_TILE,
                              interpolation=cv2.INTER_AREA) for i in indices])
        for c in cameras
    ]  # fmt: skip
    cv2.imwrite(str(out), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {out}")


def print_limbs(results: list[tuple[str, str, str, LoopResult]]) -> None:
    """Median degrees per limb (both sides together)."""
    print(f"\n| variant | camera | metric | {' | '.join(LIMBS)} |\n|---|---|---|"
          + "---|" * len(LIMBS))  # fmt: skip
    for name, camera, metric, result in results:
        cells = []
        for limb in LIMBS:
            values = [e for key, errs in result.errors.items() if key.startswith(limb)
                      for e in errs]  # fmt: skip
            cells.append(f"{np.median(values):.1f}" if values else "-")
        print(f"| {name} | {camera} | {metric} | {' | '.join(cells)} |")


def _pool(total: LoopResult, part: LoopResult) -> None:
    total.frames += part.frames
    total.detected += part.detected
    for key, values in part.errors.items():
        total.errors.setdefault(key, []).extend(values)
    for key, flags in part.swapped.items():  # each camera's runs stay apart
        total.swapped.setdefault(f"{key}-{len(total.swapped)}", list(flags))


if __name__ == "__main__":
    sys.exit(main())
