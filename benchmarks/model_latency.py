"""Latency and error of our TFLite -> ONNX conversions against the original TFLite models.

For each model: LiteRT with its default XNNPACK delegate vs the converted ONNX in onnxruntime
CPU (graph optimisation level ALL), same thread count, same input, runs interleaved in one
process so both see the same machine load; median over the runs. Errors: ONNX outputs vs
LiteRT's builtin kernels (no delegate) on a real photo (messi5.jpg).

    .venv/bin/python benchmarks/model_latency.py [--runs 100] [--threads 2] [--models ...]
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from posetrack.downloads.samples import sample_path
from posetrack.models.tflite_onnx import convert_tflite
from posetrack.models.zoo import source_path

MODELS = ("pose-detector", "blazepose-lite", "blazepose-full", "blazepose-heavy")
NPM_MODELS = ("blazepose-lite", "blazepose-heavy")
WARMUP = 5  # first runs pay for allocation and cache warm-up in both runtimes
PERSON_BOX = (65.0, 0.0, 400.0)  # x0, y0, side: the square around the person in messi5.jpg


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def photo_input(shape: tuple[int, ...]) -> np.ndarray:
    """messi5.jpg as the model wants it: person crop in [0, 1], or letterboxed in [-1, 1]."""
    rgb = cv2.cvtColor(cv2.imread(str(sample_path("messi5.jpg"))), cv2.COLOR_BGR2RGB)
    size = shape[1]
    if size == 256:  # the landmark models (the detector takes 224)
        x0, y0, side = PERSON_BOX
        s = size / side
        crop = cv2.warpAffine(rgb, np.array([[s, 0, -x0 * s], [0, s, -y0 * s]]), (size, size))
        return (crop.astype(np.float32) / 255.0)[None]
    s = size / max(rgb.shape[:2])
    h, w = round(rgb.shape[0] * s), round(rgb.shape[1] * s)
    boxed = np.zeros((size, size, 3), np.uint8)
    top, left = (size - h) // 2, (size - w) // 2
    boxed[top : top + h, left : left + w] = cv2.resize(rgb, (w, h))
    return (boxed.astype(np.float32) / 127.5 - 1.0)[None]


def litert(path: Path, threads: int, delegates: bool) -> Callable[[np.ndarray], dict]:
    resolver = OpResolverType.AUTO  # default delegates: XNNPACK
    if not delegates:
        resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = Interpreter(
        model_path=str(path), num_threads=threads, experimental_op_resolver_type=resolver
    )
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]
    outputs = interpreter.get_output_details()

    def run(x: np.ndarray) -> dict:
        interpreter.set_tensor(index, x)
        interpreter.invoke()
        return {d["name"]: interpreter.get_tensor(d["index"]) for d in outputs}

    return run


def onnx_runner(path: Path, threads: int) -> tuple[Callable[[np.ndarray], dict], tuple]:
    """A run function for the converted model, and its input shape."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    feed = session.get_inputs()[0]
    run = lambda x: dict(zip(names, session.run(names, {feed.name: x}), strict=True))  # noqa: E731
    return run, tuple(feed.shape)


def errors(expected: dict, actual: dict) -> str:
    """Max abs error of Identity (pixels); max of (max abs error / max abs ref) of the rest."""
    absolute = float(np.abs(actual["Identity"] - expected["Identity"]).max())
    relative = max(
        float(np.abs(actual[k] - ref).max() / max(np.abs(ref).max(), 1e-6))
        for k, ref in expected.items()
        if k != "Identity"
    )
    return f"{absolute:.1e} px / {relative:.1e}"


def measure(name: str, runs: int, threads: int, clock: Callable[[], float], folder: Path) -> str:
    src = source_path(name)
    dst = folder / f"{name}.onnx"
    convert_tflite(src, dst)
    ours, shape = onnx_runner(dst, threads)
    xnnpack = litert(src, threads, delegates=True)
    x = photo_input(shape)
    times: dict[str, list[float]] = {"litert": [], "onnx": []}
    for i in range(WARMUP + runs):
        for key, run in (("litert", xnnpack), ("onnx", ours)):
            start = clock()
            run(x)
            if i >= WARMUP:
                times[key].append((clock() - start) * 1e3)
    error = errors(litert(src, threads, delegates=False)(x), ours(x))
    lit, onx = (statistics.median(times[k]) for k in ("litert", "onnx"))
    return f"| {name} | {lit:.1f} | {onx:.1f} | {onx / lit:.2f} | {error} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: CPU time of the calling thread, robust to other load (needs --threads 1)",
    )
    args = parser.parse_args()
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu measures the calling thread only: use it with --threads 1")
    print(f"machine: {machine()}")
    print(
        f"onnxruntime {ort.__version__} (CPU EP, ORT_ENABLE_ALL), ai-edge-litert "
        f"{version('ai-edge-litert')} (XNNPACK), {args.threads} thread(s), {args.clock} time, "
        f"median of {args.runs} interleaved runs; load average before: {os.getloadavg()[0]:.2f}"
    )
    print()
    print("| model | LiteRT+XNNPACK ms | ONNX in ORT ms | ratio | max error: Identity / rest |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            if name in NPM_MODELS and shutil.which("npm") is None:
                print(f"| {name} | not run: needs npm | | | |")
                continue
            clock = time.thread_time if args.clock == "cpu" else time.perf_counter
            print(measure(name, args.runs, args.threads, clock, Path(folder)), flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
