"""Whole-process CPU throughput: `posetrack track` vs MediaPipe's own Python pipeline.

Both sides do the same work on the same clip (default: the Sports2D demo, 1768x994, 230 frames):
decode every frame with OpenCV, find the person, run the full BlazePose landmark model, no
smoothing, CPU only. Each run is a fresh process timed by wall clock from spawn to exit, so
"whole" fps includes interpreter start, imports and model load. Each pipeline also runs on the
first SHORT_FRAMES frames only; the difference of the two wall times gives the steady-state rate:
    steady fps = (frames - SHORT_FRAMES) / (wall(frames) - wall(SHORT_FRAMES)).
Runs alternate (posetrack, mediapipe, posetrack, ...) so drift on the machine hits both; the table
shows medians over the repeats.

    .venv/bin/python benchmarks/track_vs_mediapipe.py [--repeats 3] [--loops 1]
    .venv/bin/python benchmarks/track_vs_mediapipe.py --only mediapipe   # one half only

The MediaPipe half runs this same file with `--mediapipe-worker CLIP MAX_FRAMES` in MediaPipe's
own venv (.venv-mediapipe, `make reference`): mediapipe brings a second OpenCV distribution that
must not enter the tracker's venv.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SHORT_FRAMES = 30  # 1 s of video: enough to get past start-up, model load and the first detection
PIPELINES = ("posetrack", "mediapipe")
REFERENCE_PYTHON = Path(__file__).resolve().parent.parent / ".venv-mediapipe" / "bin" / "python"
# No GPU for either side, even on a machine that has one: this compares CPU pipelines.
CPU_ENV = {"CUDA_VISIBLE_DEVICES": ""}


def mediapipe_worker(clip: str, max_frames: int) -> None:
    """The MediaPipe side: decode every frame, mp.solutions.pose (full model, smoothing off)."""
    import cv2
    import mediapipe as mp

    capture = cv2.VideoCapture(clip)
    found = frames = 0
    with mp.solutions.pose.Pose(
        static_image_mode=False,
        model_complexity=1,  # pose_landmark_full: posetrack's default model
        smooth_landmarks=False,
        enable_segmentation=False,
    ) as pose:
        while frames < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            found += result.pose_landmarks is not None
            frames += 1
    print(f"frames={frames} found={found}")


def posetrack_command(clip: Path, max_frames: int | None) -> list[str]:
    """The posetrack side: the installed console script next to this interpreter."""
    script = Path(sys.executable).with_name("posetrack")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "posetrack"]
    command += ["track", str(clip), "--no-smooth", "--out", os.devnull]
    command += ["--device", "cpu", "--preprocess", "cpu", "--decode", "cpu"]
    command += ["--model", "blazepose-full"]  # MediaPipe's model_complexity=1, not --model auto
    return command + (["--max-frames", str(max_frames)] if max_frames else [])


def mediapipe_command(clip: Path, max_frames: int) -> list[str]:
    python = Path(os.environ.get("POSETRACK_MEDIAPIPE_PYTHON", REFERENCE_PYTHON))
    if not python.is_file():
        sys.exit(f"MediaPipe's venv is missing ({python}): run `make reference` first")
    return [str(python), __file__, "--mediapipe-worker", str(clip), str(max_frames)]


def timed_run(command: list[str]) -> float:
    """Wall-clock seconds from spawn to exit; a failing run stops the benchmark."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ | CPU_ENV)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed


def frame_count(clip: Path) -> tuple[int, int, int]:
    import cv2

    capture = cv2.VideoCapture(str(clip))
    frames = 0
    while capture.grab():  # count decodable frames; CAP_PROP_FRAME_COUNT can be an estimate
        frames += 1
    size = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    return frames, *size


def looped_clip(clip: Path, loops: int) -> Path:
    """The clip played `loops` times in one file (re-encoded as MPEG-4 part 2) in the cache."""
    import cv2

    from posetrack.downloads.cache import cache_dir

    out = cache_dir() / "bench" / f"{clip.stem}-x{loops}.mp4"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    source = cv2.VideoCapture(str(clip))
    fps = source.get(cv2.CAP_PROP_FPS)
    frames = []
    while (read := source.read())[0]:
        frames.append(read[1])
    height, width = frames[0].shape[:2]
    partial = out.with_name(f"{out.stem}.{os.getpid()}.part.mp4")
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for _ in range(loops):
        for frame in frames:
            writer.write(frame)
    writer.release()
    partial.replace(out)
    return out


def machine() -> str:
    model = platform.processor() or "unknown cpu"
    with open("/proc/cpuinfo") as info:
        names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    model = names[0] if names else model
    usable = len(os.sched_getaffinity(0))
    return f"{model}, {os.cpu_count()} logical cores ({usable} usable), {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, help="video to track (default: Sports2D demo)")
    parser.add_argument("--loops", type=int, default=1, help="play the clip this many times")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per pipeline")
    parser.add_argument("--only", choices=PIPELINES, help="time one pipeline only")
    args = parser.parse_args()

    if args.clip is None:
        from posetrack.downloads.samples import sample_path

        args.clip = sample_path("sports2d-demo.mp4")
    clip = looped_clip(args.clip, args.loops) if args.loops > 1 else args.clip
    frames, width, height = frame_count(clip)
    pipelines = [args.only] if args.only else list(PIPELINES)
    commands = {
        "posetrack": (posetrack_command(clip, None), posetrack_command(clip, SHORT_FRAMES)),
        "mediapipe": (mediapipe_command(clip, frames), mediapipe_command(clip, SHORT_FRAMES)),
    }

    print(f"machine: {machine()}")
    print(f"python {platform.python_version()}, CPU only ({CPU_ENV})")
    print(f"clip: {args.clip.name} x{args.loops} -> {frames} frames, {width}x{height}")
    print(f"steady state from runs of {frames} and {SHORT_FRAMES} frames; {args.repeats} repeats")
    wall: dict[str, list[float]] = {p: [] for p in pipelines}
    short: dict[str, list[float]] = {p: [] for p in pipelines}
    for repeat in range(args.repeats):
        for p in pipelines:  # alternating: A B A B ...
            full_command, short_command = commands[p]
            wall[p].append(timed_run(full_command))
            short[p].append(timed_run(short_command))
            print(f"  run {repeat + 1} {p:9s}: {frames} frames {wall[p][-1]:6.2f} s, "
                  f"{SHORT_FRAMES} frames {short[p][-1]:6.2f} s", flush=True)  # fmt: skip

    rows: dict[str, tuple[float, float, float]] = {}
    print(f"\n| pipeline | wall s, {frames} frames: median (min-max) | whole-process fps "
          "| steady-state fps |")  # fmt: skip
    print("|---|---:|---:|---:|")
    for p in pipelines:
        full_s, short_s = statistics.median(wall[p]), statistics.median(short[p])
        steady = (frames - SHORT_FRAMES) / (full_s - short_s)
        rows[p] = (full_s, frames / full_s, steady)
        spread = f"{min(wall[p]):.2f}-{max(wall[p]):.2f}"
        print(f"| {p} | {full_s:.2f} ({spread}) | {frames / full_s:.1f} | {steady:.1f} |")
    if len(rows) == 2:
        (_, pw, ps), (_, mw, ms) = rows["posetrack"], rows["mediapipe"]
        print(f"| ratio posetrack / mediapipe | | {pw / mw:.2f} | {ps / ms:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--mediapipe-worker":
        mediapipe_worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
