"""The GPU paths on this machine, in one table: what runs, whether it agrees, what it costs.

Runs anywhere: on a machine with an NVIDIA GPU and onnxruntime-gpu it measures the CUDA rows;
elsewhere (CPU + Mesa llvmpipe, as in CI) it prints the same tables with those rows marked
"not available" and why. Sections:

1. the machine, the GPU (nvidia-smi), the GL renderer, ONNX Runtime's version and providers,
   why CUDA is or is not usable;
2. GPU vs CPU parity on the test images: the landmark crop (compute shader vs OpenCV, max
   difference in grey levels), the heatmap decode (compute shader vs numpy on the same model
   outputs, max difference in crop pixels), the landmark model on CUDA vs on the CPU (max
   difference of the landmarks, crop pixels);
3. ONNX Runtime alone: plain `session.run` vs IO binding (benchmarks/io_binding.py);
4. per path and model: per-stage milliseconds (medians of --frames frames after --warmup),
   bytes sent to / read back from the GPU per frame (GL stages and CUDA inference together),
   and end-to-end frames per second, tracking a clip frame by frame (--clip: a sample's name
   or a video file; the Sports2D clip, 1768 x 994, by default);
5. the issue's targets for BlazePose full against the best path measured here.

    .venv/bin/python benchmarks/gpu_check.py [--frames 200] [--warmup 20] [--models ...]
                                             [--clip sports2d-demo.mp4]
"""

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from io_binding import rows as binding_rows  # benchmarks/ is sys.path[0]
from track_vs_mediapipe import machine

# where each stage runs on a path: (preprocess, decode, ORT device)
PATHS: dict[str, tuple[str, str, str]] = {
    "cpu": ("cpu", "cpu", "cpu"),
    "gl": ("gpu", "gpu", "cpu"),  # compute shaders for crop + decode, the model on the CPU
    "cuda": ("cpu", "cpu", "cuda"),  # the model on CUDA (IO binding), crop + decode on the CPU
    "gl+cuda": ("gpu", "gpu", "cuda"),
}
STAGES = ("capture", "detect", "preprocess", "inference", "decode")
IMAGES = ("messi5.jpg", "basketball1.png", "basketball2.png")
TARGET_MS = 2.0  # preprocess + inference + decode, BlazePose full, 1080p source (issue 13)
TARGET_READBACK = 33 * 16  # bytes: 33 refined landmarks x (x, y, z, visibility) float32


@dataclass
class Row:
    path: str
    model: str
    ms: dict[str, float]  # stage -> median ms
    up: dict[str, float]  # stage -> median bytes host -> GPU
    down: dict[str, float]  # stage -> median bytes GPU -> host
    fps: float


def tracking_models() -> list[str]:
    """BlazePose full, then every other model the tracker can use that is already cached."""
    from posetrack.models import zoo

    cached = [n for n in zoo.names() if n != "pose-detector" and zoo.cached_onnx(n)]
    return ["blazepose-full", *(n for n in cached if n != "blazepose-full")]


def gpu_name() -> str:
    if shutil.which("nvidia-smi") is None:
        return "none seen (no nvidia-smi)"
    query = ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"]
    result = subprocess.run(query, capture_output=True, text=True, check=False)
    return result.stdout.strip().replace("\n", "; ") or f"none ({result.stderr.strip()})"


def environment() -> tuple[list[str], object | None, str | None]:
    """Lines about the machine; the headless GL context (None if none); why no CUDA."""
    import onnxruntime as ort

    from posetrack.models.runtime import cuda_problem
    from posetrack.stages.gpu_context import GpuContext

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"date: {now}", f"command: {' '.join(sys.argv)}", f"machine: {machine()}",
             f"NVIDIA GPU: {gpu_name()}"]  # fmt: skip
    try:
        context = GpuContext.headless()
        lines.append(f"GL renderer: {context.renderer}")
        if context.is_software:
            lines.append("  (a CPU rasteriser: the gl rows measure Mesa's llvmpipe, not a GPU)")
    except Exception as error:  # noqa: BLE001 - reported in the table, not raised
        context = None
        lines.append(f"GL renderer: none ({error})")
    problem = cuda_problem()
    lines.append(
        f"ONNX Runtime {ort.__version__}, providers: {', '.join(ort.get_available_providers())}"
    )
    lines.append(f"CUDA: {'usable' if problem is None else 'not available (' + problem + ')'}")
    return lines, context, problem


def parity(context, problem: str | None) -> list[str]:  # noqa: ANN001 - a GpuContext
    """GPU vs CPU on the test images: crop (grey levels), decode and CUDA inference (crop px)."""
    import esper

    from posetrack.components import ModelInput, ModelOutputs
    from posetrack.components.tracker import TrackingConfig
    from posetrack.downloads.samples import sample_path
    from posetrack.models import zoo
    from posetrack.models.blazepose_landmarks import landmark_crop
    from posetrack.models.runtime import OrtModel
    from posetrack.stages.backends import GpuCroppers
    from posetrack.stages.crop_cpu import crop_tensor
    from posetrack.stages.decode_cpu import CpuHeatmapOps
    from posetrack.stages.decode_gpu import GpuHeatmapOps
    from posetrack.systems.pose_tracking import PoseTrackingSystem

    lines = [
        "| image | crop max diff (grey levels) | decode max diff (crop px) "
        "| CUDA vs CPU landmarks max diff (crop px) |",
        "|---|---:|---:|---:|",
    ]
    croppers, gpu_ops, cpu_ops = GpuCroppers(context), GpuHeatmapOps(context), CpuHeatmapOps()
    cuda = OrtModel(zoo.onnx_path("blazepose-full"), "cuda") if problem is None else None
    try:
        for index, name in enumerate(IMAGES):
            path = sample_path(name)
            config = TrackingConfig(device="cpu", preprocess="cpu", decode="cpu")
            tracker = PoseTrackingSystem(str(path), config)
            try:
                tracker.process()
                model_input = esper.try_component(tracker.entity, ModelInput)
                outputs = esper.try_component(tracker.entity, ModelOutputs)
            finally:
                tracker.close()
            if model_input is None or outputs is None:
                lines.append(f"| {name} | no person found | - | - |")
                continue
            frame = cv2.imread(str(path))
            spec = landmark_crop(model_input.roi)
            cpu = crop_tensor(frame, spec)
            gpu = croppers.crop(frame, index, spec)  # a new index: a new upload
            crop_diff = float(np.abs(gpu - cpu).max() * 255.0)
            landmarks = outputs.arrays["Identity"].reshape(-1, 5)[:, :2]
            heatmap = outputs.arrays["Identity_3"]
            decode_diff = float(
                np.abs(
                    gpu_ops.refine(landmarks, heatmap) - cpu_ops.refine(landmarks, heatmap)
                ).max()
            )
            if cuda is None:
                cuda_cell = f"not available ({problem})"
            else:
                on_cuda = cuda.run({cuda.input_names[0]: model_input.tensor})["Identity"]
                cuda_cell = f"{np.abs(on_cuda - outputs.arrays['Identity']).max():.2e}"
            lines.append(f"| {name} | {crop_diff:.3f} | {decode_diff:.2e} | {cuda_cell} |")
    finally:
        croppers.close()
        gpu_ops.close()
        if cuda is not None:
            cuda.close()
    return lines


def measure(path: str, model: str, clip: str, frames: int, warmup: int, context) -> Row:  # noqa: ANN001
    """Track the clip frame by frame on one path; medians per stage."""
    import esper

    from posetrack.components import StageTimes
    from posetrack.components.tracker import TrackingConfig
    from posetrack.systems.pose_tracking import PoseTrackingSystem

    preprocess, decode, device = PATHS[path]
    config = TrackingConfig(model=model, device=device, preprocess=preprocess, decode=decode,
                            smoothing=False)  # fmt: skip
    tracker = PoseTrackingSystem(clip, config, gpu_context=context)
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    up: dict[str, list[int]] = {stage: [] for stage in STAGES}
    down: dict[str, list[int]] = {stage: [] for stage in STAGES}
    totals: list[float] = []
    try:
        done = 0
        while done < warmup + frames:
            if tracker.finished:  # the end of the clip: start it again
                tracker.close()
                tracker = PoseTrackingSystem(clip, config, gpu_context=context)
            start = time.perf_counter()
            tracker.process()
            total = (time.perf_counter() - start) * 1000.0
            times = esper.component_for_entity(tracker.entity, StageTimes)
            done += 1
            if done <= warmup:
                continue
            totals.append(total)
            for stage in STAGES:
                per_stage[stage].append(times.ms.get(stage, 0.0))
                up[stage].append(times.bytes_up.get(stage, 0))
                down[stage].append(times.bytes_down.get(stage, 0))
    finally:
        tracker.close()
    return Row(path, model, *({s: statistics.median(v[s]) for s in STAGES}
                              for v in (per_stage, up, down)),
               1000.0 / statistics.median(totals))  # fmt: skip


def open_clip(name: str) -> tuple[str | None, str]:
    """(the clip's path, "W x H"), or (None, why not): a sample's name or a video file."""
    from posetrack.downloads.samples import SAMPLES, sample_path
    from posetrack.errors import PosetrackError

    path = Path(name)
    if not path.is_file():
        if name not in SAMPLES:
            return None, f"neither a file nor a sample ({', '.join(SAMPLES)})"
        try:
            path = sample_path(name)
        except PosetrackError as error:
            return None, str(error)
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    capture.release()
    if not ok:
        return None, "not a video that OpenCV can read"
    return str(path), f"{frame.shape[1]} x {frame.shape[0]}"


def unavailable(path: str, context, problem: str | None) -> str | None:  # noqa: ANN001
    if "cuda" in path and problem is not None:
        return f"not available ({problem})"
    if path.startswith("gl") and context is None:
        return "not available (no GL context with compute shaders)"
    return None


def targets(measured: list[Row]) -> list[str]:
    """The issue's targets for BlazePose full against each path measured here."""
    lines = ["| path | preprocess+inference+decode ms (<= 2) | decode read back, bytes "
             f"(<= {TARGET_READBACK}) | model input crosses the host |",
             "|---|---:|---:|---|"]  # fmt: skip
    for row in measured:
        if row.model != "blazepose-full":
            continue
        ms = sum(row.ms[s] for s in ("preprocess", "inference", "decode"))
        if row.path == "cpu":
            readback, crossing = "-", "no GPU on this path"
        else:
            readback = f"{row.down['decode']:.0f}"
            crossing = {
                "gl": "yes: the GL crop is read back for ORT on the CPU",
                "cuda": "yes: the CPU crop is uploaded to CUDA",
                "gl+cuda": "yes: GL crop read back, then uploaded to CUDA (interop not built)",
            }[row.path]
        lines.append(f"| {row.path} | {ms:.2f} ({'met' if ms <= TARGET_MS else 'not met'}) "
                     f"| {readback} | {crossing} |")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="measured frames per row")
    parser.add_argument("--warmup", type=int, default=20, help="frames run before measuring")
    parser.add_argument("--models", nargs="+", help="default: every cached tracking model")
    parser.add_argument("--clip", default="sports2d-demo.mp4", help="a sample's name or a video")
    args = parser.parse_args()
    if args.frames < 1 or args.warmup < 0:
        parser.error("--frames must be at least 1 and --warmup not negative")
    clip, size = open_clip(args.clip)
    if clip is None:
        parser.error(f"--clip {args.clip}: {size}")
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    models = args.models or tracking_models()
    lines, context, problem = environment()
    print("\n".join(lines))
    print("\n## GPU vs CPU parity (the same ROI and model outputs through both paths)\n")
    print("\n".join(parity(context, problem) if context is not None
                    else ["not available: no GL context"]))  # fmt: skip
    print(f"\n## ONNX Runtime alone: plain run vs IO binding, medians of {args.frames} runs\n")
    print("\n".join(binding_rows(["blazepose-full"], args.frames, problem)), flush=True)
    print(f"\n## Tracking {Path(clip).name} ({size}), {args.frames} frames per row after "
          f"{args.warmup} of warm-up, medians\n")  # fmt: skip
    head = " | ".join(f"{stage} ms" for stage in STAGES)
    print(f"| path | model | {head} | bytes up/frame | bytes down/frame | frames/s |")
    print("|---|---|" + "---:|" * (len(STAGES) + 3))
    measured: list[Row] = []
    for model in models:
        for path in PATHS:
            why = unavailable(path, context, problem)
            if why is not None:
                blanks = " | ".join("-" for _ in range(len(STAGES) + 2))
                print(f"| {path} | {model} | {blanks} | {why} |")
                continue
            row = measure(path, model, clip, args.frames, args.warmup, context)
            measured.append(row)
            cells = " | ".join(f"{row.ms[stage]:.2f}" for stage in STAGES)
            up, down = sum(row.up.values()), sum(row.down.values())
            print(f"| {path} | {model} | {cells} | {up:.0f} | {down:.0f} | {row.fps:.1f} |",
                  flush=True)  # fmt: skip
    print(f"\n## Targets (issue 13), BlazePose full on {Path(clip).name} ({size})\n")
    print("\n".join(targets(measured)))
    if context is not None:
        context.close()


if __name__ == "__main__":
    main()
