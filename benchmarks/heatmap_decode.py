"""Heatmap decode per call: GPU compute shaders (posetrack.stages.decode_gpu) vs the numpy path.

For each stage and shape: median and 90th-percentile wall time of one call (upload, dispatch,
read back, finish on the host: what a frame pays), GPU and numpy timed interleaved in one
process so both see the same machine load, and the host <-> GPU bytes of one GPU call. The
machine, the GL renderer and the library versions head the table (markdown, ready for docs/).

Inputs: PoseNet 25x25x17 are the converted PoseNet's real outputs on basketball2.png (several
players; its scores at TF.js's threshold 0.5 give the candidate list a realistic length);
BlazePose 64x64x39 are random logits (argmax and refinement cost does not depend on the values).

    .venv/bin/python benchmarks/heatmap_decode.py [--calls 300] [--threshold 0.5]
"""

import argparse
import os
import platform
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np

from posetrack.downloads.samples import sample_path
from posetrack.models.runtime import OrtModel
from posetrack.models.zoo_tfjs import tfjs_onnx_path
from posetrack.stages.decode_cpu import (
    argmax_heatmaps,
    local_maxima,
    posenet_keypoints,
    refine_from_heatmap,
    sigmoid,
)
from posetrack.stages.decode_gpu import GpuHeatmapDecoder
from posetrack.stages.gpu_context import GpuContext

WARMUP = 10  # first calls pay for shader linking, texture allocation and cache warm-up
POSENET_INPUT, POSENET_STRIDE = 385, 16
BLAZEPOSE_SHAPE = (64, 64, 39)
BLAZEPOSE_CROP = 256  # the landmark model's input side: refinement points live in it


def machine() -> str:
    """CPU model, logical CPUs, OS."""
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def posenet_outputs() -> dict[str, np.ndarray]:
    """PoseNet (TFJS, converted to ONNX) on basketball2.png: [H, W, C] arrays by short name."""
    model = OrtModel(tfjs_onnx_path("posenet"), device="cpu")
    try:
        image = cv2.cvtColor(cv2.imread(str(sample_path("basketball2.png"))), cv2.COLOR_BGR2RGB)
        pixels = cv2.resize(image, (POSENET_INPUT, POSENET_INPUT)).astype(np.float32)
        result = model.run({model.input_names[0]: (pixels / 127.5 - 1.0)[None]})
    finally:
        model.close()
    return {name.split("/")[1].removesuffix("_2"): value[0] for name, value in result.items()}


def timed(calls: int, gpu: Callable[[], object], cpu: Callable[[], object]) -> np.ndarray:
    """[calls, 2] seconds per call of (gpu, cpu), interleaved."""
    for _ in range(WARMUP):
        gpu()
        cpu()
    seconds = np.empty((calls, 2))
    for i in range(calls):
        for j, call in enumerate((gpu, cpu)):
            start = time.perf_counter()
            call()
            seconds[i, j] = time.perf_counter() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per row")
    parser.add_argument("--threshold", type=float, default=0.5, help="local-maxima threshold")
    args = parser.parse_args()

    outputs = posenet_outputs()
    logits, offsets = outputs["heatmap"], outputs["offset"]
    scores = sigmoid(logits).astype(np.float32)
    rng = np.random.default_rng(0)
    blaze = (3 * rng.standard_normal(BLAZEPOSE_SHAPE)).astype(np.float32)
    points = rng.uniform(0, BLAZEPOSE_CROP, (BLAZEPOSE_SHAPE[2], 2))

    context = GpuContext.headless()
    posenet = GpuHeatmapDecoder(context, *logits.shape)
    blazepose = GpuHeatmapDecoder(context, *BLAZEPOSE_SHAPE)
    threshold = args.threshold
    candidates = len(local_maxima(scores, threshold))
    rows = [
        ("25x25x17", "argmax", posenet,
         lambda: posenet.argmax(logits), lambda: argmax_heatmaps(logits)),
        ("25x25x17", "PoseNet single-pose keypoints", posenet,
         lambda: posenet.posenet(logits, offsets, POSENET_STRIDE),
         lambda: posenet_keypoints(logits, offsets, POSENET_STRIDE)),
        ("25x25x17", f"local maxima >= {threshold} ({candidates} found)", posenet,
         lambda: posenet.local_maxima(scores, threshold), lambda: local_maxima(scores, threshold)),
        ("64x64x39", "argmax", blazepose,
         lambda: blazepose.argmax(blaze), lambda: argmax_heatmaps(blaze)),
        ("64x64x39", "BlazePose refinement (7x7)", blazepose,
         lambda: blazepose.blazepose_refine(points, blaze, kernel_size=7),
         lambda: refine_from_heatmap(points, blaze, kernel_size=7)),
    ]  # fmt: skip
    try:
        print(f"Machine: {machine()}")
        print(f"GL: {context.renderer}")
        print(
            f"Python {platform.python_version()}, numpy {np.__version__}, "
            f"panda3d {version('panda3d')}; median (p90) of {args.calls} calls, ms per call\n"
        )
        print("| heatmaps | stage | GPU ms | numpy ms | bytes up | bytes down |")
        print("|---|---|---|---|---|---|")
        for shape, stage, decoder, gpu, cpu in rows:
            seconds = timed(args.calls, gpu, cpu) * 1e3
            gpu()  # the byte counters describe the last call
            median, p90 = np.median(seconds, axis=0), np.percentile(seconds, 90, axis=0)
            print(
                f"| {shape} | {stage} | {median[0]:.3f} ({p90[0]:.3f}) "
                f"| {median[1]:.3f} ({p90[1]:.3f}) "
                f"| {decoder.bytes_uploaded} | {decoder.bytes_read_back} |"
            )
    finally:
        posenet.close()
        blazepose.close()
        context.close()


if __name__ == "__main__":
    main()
