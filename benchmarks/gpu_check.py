"""The GPU paths on this machine, in one table: what runs, whether it agrees, what it costs.

Runs anywhere: on a machine with an NVIDIA GPU and onnxruntime-gpu it measures the CUDA rows;
elsewhere (CPU + Mesa llvmpipe, as in CI) it prints the same table with those rows marked
"not available" and why. Sections:

1. the GL renderer, ONNX Runtime's version and providers, why CUDA is or is not usable;
2. GPU vs CPU parity on the test images: the landmark crop (compute shader vs OpenCV, max
   difference in grey levels) and the heatmap decode (compute shader vs numpy on the same
   model outputs, max difference in crop pixels);
3. per path and model: per-stage milliseconds (medians of --frames frames after --warmup),
   bytes sent to / read back from the GPU per frame, and end-to-end frames per second,
   tracking the Sports2D clip (1768 x 994) frame by frame.

    .venv/bin/python benchmarks/gpu_check.py [--frames 200] [--warmup 20] [--models ...]
"""

import argparse
import os
import statistics
import time
from dataclasses import dataclass

import cv2
import numpy as np
from track_vs_mediapipe import machine  # benchmarks/ is sys.path[0]

# where each stage runs on a path: (preprocess, decode, ORT device)
PATHS: dict[str, tuple[str, str, str]] = {
    "cpu": ("cpu", "cpu", "cpu"),
    "gl": ("gpu", "gpu", "cpu"),  # compute shaders for crop + decode, the model on the CPU
    "cuda": ("cpu", "cpu", "cuda"),  # the model on CUDA (IO binding), crop + decode on the CPU
    "gl+cuda": ("gpu", "gpu", "cuda"),
}
STAGES = ("capture", "detect", "preprocess", "inference", "decode")
IMAGES = ("messi5.jpg", "basketball1.png", "basketball2.png")


@dataclass
class Row:
    path: str
    model: str
    ms: dict[str, float]
    up: float
    down: float
    fps: float


def environment() -> tuple[list[str], object | None, str | None]:
    """Lines about the machine; the headless GL context (None if none); why no CUDA."""
    import onnxruntime as ort

    from posetrack.models.runtime import cuda_problem
    from posetrack.stages.gpu_context import GpuContext

    lines = [f"machine: {machine()}"]
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


def parity(context) -> list[str]:  # noqa: ANN001 - a GpuContext
    """GPU vs CPU on the test images: crop (grey levels), decode (crop px)."""
    import esper

    from posetrack.components import ModelInput, ModelOutputs
    from posetrack.components.tracker import TrackingConfig
    from posetrack.downloads.samples import sample_path
    from posetrack.models.blazepose_landmarks import landmark_crop
    from posetrack.stages.backends import GpuCroppers
    from posetrack.stages.crop_cpu import crop_tensor
    from posetrack.stages.decode_cpu import CpuHeatmapOps
    from posetrack.stages.decode_gpu import GpuHeatmapOps
    from posetrack.systems.pose_tracking import PoseTrackingSystem

    lines = [
        "| image | crop max diff (grey levels) | decode max diff (crop px) |",
        "|---|---:|---:|",
    ]
    croppers, gpu_ops, cpu_ops = GpuCroppers(context), GpuHeatmapOps(context), CpuHeatmapOps()
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
                lines.append(f"| {name} | no person found | - |")
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
            lines.append(f"| {name} | {crop_diff:.3f} | {decode_diff:.2e} |")
    finally:
        croppers.close()
        gpu_ops.close()
    return lines


def measure(path: str, model: str, frames: int, warmup: int, context) -> Row:  # noqa: ANN001
    """Track the Sports2D clip frame by frame on one path; medians per stage."""
    import esper

    from posetrack.components import StageTimes
    from posetrack.components.tracker import TrackingConfig
    from posetrack.downloads.samples import sample_path
    from posetrack.systems.pose_tracking import PoseTrackingSystem

    preprocess, decode, device = PATHS[path]
    config = TrackingConfig(model=model, device=device, preprocess=preprocess, decode=decode,
                            smoothing=False)  # fmt: skip
    tracker = PoseTrackingSystem(str(sample_path("sports2d-demo.mp4")), config,
                                 gpu_context=context)  # fmt: skip
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    up, down, totals = [], [], []
    try:
        done = 0
        while done < warmup + frames:
            if tracker.finished:  # the clip is 230 frames: start it again
                tracker.close()
                tracker = PoseTrackingSystem(str(sample_path("sports2d-demo.mp4")), config,
                                             gpu_context=context)  # fmt: skip
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
            up.append(sum(times.bytes_up.values()))
            down.append(sum(times.bytes_down.values()))
    finally:
        tracker.close()
    ms = {stage: statistics.median(values) for stage, values in per_stage.items()}
    return Row(path, model, ms, statistics.median(up), statistics.median(down),
               1000.0 / statistics.median(totals))  # fmt: skip


def unavailable(path: str, context, problem: str | None) -> str | None:  # noqa: ANN001
    if "cuda" in path and problem is not None:
        return f"not available ({problem})"
    if path.startswith("gl") and context is None:
        return "not available (no GL context with compute shaders)"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="measured frames per row")
    parser.add_argument("--warmup", type=int, default=20, help="frames run before measuring")
    parser.add_argument("--models", nargs="+", default=["blazepose-full"])
    args = parser.parse_args()
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    lines, context, problem = environment()
    print("\n".join(lines))
    print("\nGPU vs CPU parity (the same ROI and model outputs through both paths):\n")
    print("\n".join(parity(context) if context is not None else ["not available: no GL context"]))
    print(
        f"\nSports2D clip, {args.frames} frames per row after {args.warmup} of warm-up, medians:\n"
    )
    head = " | ".join(f"{stage} ms" for stage in STAGES)
    print(f"| path | model | {head} | bytes up/frame | bytes down/frame | frames/s |")
    print("|---|---|" + "---:|" * (len(STAGES) + 3))
    for model in args.models:
        for path in PATHS:
            why = unavailable(path, context, problem)
            if why is not None:
                blanks = " | ".join("-" for _ in range(len(STAGES) + 2))
                print(f"| {path} | {model} | {blanks} | {why} |")
                continue
            row = measure(path, model, args.frames, args.warmup, context)
            cells = " | ".join(f"{row.ms[stage]:.2f}" for stage in STAGES)
            print(f"| {path} | {model} | {cells} | {row.up:.0f} | {row.down:.0f} | {row.fps:.1f} |",
                  flush=True)  # fmt: skip
    if context is not None:
        context.close()


if __name__ == "__main__":
    main()
