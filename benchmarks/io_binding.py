"""ONNX Runtime: plain `session.run` vs IO binding, side by side, on real model inputs.

Three ways to run the same model on the same inputs, interleaved frame by frame (each frame
runs all three, in a rotating order, so a busy neighbour slows them alike):

- plain: `session.run(names, feeds)`, outputs allocated anew every call;
- bound: models/binding.py, the host input copied into the bound buffer (`update_inplace`);
- in place: the same, the input written straight into the bound buffer (`host_input`), as a
  preprocess that targets it would (CPU provider only: on CUDA the buffer is device memory).

Each time covers the run and the outputs as host numpy arrays the caller owns (what the
pipeline's decode reads). The inputs are the tracker's own model inputs for the Sports2D clip
(its preprocess output, frame by frame), cycled. Prints medians (ms) per provider; a provider
that cannot run here gets its row marked "not available" and why.

    .venv/bin/python benchmarks/io_binding.py [--frames 200] [--models blazepose-full]
"""

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

MODES = ("plain", "bound", "in place")
HEADER = ["| provider | model | plain ms | bound ms | in place ms | bound / plain |",
          "|---|---|---:|---:|---:|---:|"]  # fmt: skip


def model_inputs(model: str, count: int) -> list[np.ndarray]:
    """Up to `count` real inputs of `model`: the tracker's preprocess output on Sports2D."""
    import esper

    from posetrack.components import ModelInput
    from posetrack.components.tracker import TrackingConfig
    from posetrack.downloads.samples import sample_path
    from posetrack.systems.pose_tracking import PoseTrackingSystem

    config = TrackingConfig(model=model, device="cpu", preprocess="cpu", decode="cpu")
    tracker = PoseTrackingSystem(str(sample_path("sports2d-demo.mp4")), config)
    out: list[np.ndarray] = []
    try:
        while len(out) < count and not tracker.finished:
            tracker.process()
            found = esper.try_component(tracker.entity, ModelInput)
            if found is not None:
                out.append(np.array(found.tensor))  # its own copy: the next frame reuses none
    finally:
        tracker.close()
    return out


def compare(model: str, device: str, frames: int, warmup: int = 10) -> dict[str, float]:
    """Median ms per mode (MODES) for `frames` runs after `warmup`."""
    from posetrack.models import zoo
    from posetrack.models.runtime import OrtModel

    tensors = model_inputs(model, 30)  # 30 distinct frames: a second of the clip
    path = zoo.onnx_path(model)
    plain = OrtModel(path, device, io_binding=False)
    bound = OrtModel(path, device, io_binding=True)
    try:
        name = plain.input_names[0]
        view = bound.binding.host_input(name)
        runs: dict[str, Callable[[np.ndarray], object]] = {
            "plain": lambda t: plain.run({name: t}),
            "bound": lambda t: bound.run({name: t}),
        }
        if view is not None:

            def in_place(t: np.ndarray) -> object:
                view[...] = t  # stands for a preprocess that writes its output here
                return bound.run({name: view})

            runs["in place"] = in_place
        times: dict[str, list[float]] = {mode: [] for mode in runs}
        for index in range(warmup + frames):
            tensor = tensors[index % len(tensors)]
            order = list(runs)[index % len(runs) :] + list(runs)[: index % len(runs)]
            for mode in order:
                start = time.perf_counter()
                runs[mode](tensor)
                if index >= warmup:
                    times[mode].append((time.perf_counter() - start) * 1000.0)
        return {mode: statistics.median(values) for mode, values in times.items()}
    finally:
        plain.close()
        bound.close()


def rows(models: list[str], frames: int, cuda_problem: str | None) -> list[str]:
    lines = list(HEADER)
    for model in models:
        for device in ("cpu", "cuda"):
            if device == "cuda" and cuda_problem is not None:
                lines.append(f"| {device} | {model} | - | - | - | not available ({cuda_problem}) |")
                continue
            ms = compare(model, device, frames)
            cells = " | ".join(f"{ms[m]:.2f}" if m in ms else "-" for m in MODES)
            lines.append(f"| {device} | {model} | {cells} | {ms['bound'] / ms['plain']:.3f} |")
    return lines


def main() -> None:
    from posetrack.models.runtime import cuda_problem

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="measured runs per mode")
    parser.add_argument("--models", nargs="+", default=["blazepose-full"])
    args = parser.parse_args()
    print(f"ONNX Runtime, plain run vs IO binding: medians of {args.frames} runs per mode\n")
    print("\n".join(rows(args.models, args.frames, cuda_problem())))


if __name__ == "__main__":
    main()
