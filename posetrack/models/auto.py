"""`model = "auto"`: the most accurate BlazePose variant that keeps up with the source.

The rule (`choose`, a pure function): take the candidates from the most accurate down
(blazepose-heavy, blazepose-full, blazepose-lite) and pick the first whose measured cost per
frame fits the budget; when none fits, the fastest. The cost of a variant is the median time of
its landmark model plus the median time of the person detector on this machine (a frame where
tracking was lost runs both; every other frame runs only the landmark model, so this is the
worst frame). The budget is BUDGET_SHARE of the source's frame interval (`budget_ms`), the
source's rate given by `source_rate` (a camera: 30 fps, whatever it reports).

The timings are measured once per machine (`measure`: a few warm-up runs, then RUNS runs of each
model on a real frame, interleaved so a burst of other work on the machine slows every candidate
alike, median) and kept in `<cache>/auto-model.json` under a key naming the CPU, its core count,
the ONNX Runtime version and the execution provider; a later start reads them back. A variant
that is neither converted in the cache nor fetchable here (lite and heavy come from npm) is not
a candidate.
"""

import json
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posetrack.downloads.cache import cache_dir
from posetrack.errors import ModelError, PosetrackError
from posetrack.models import zoo

AUTO = "auto"
CANDIDATES = ("blazepose-heavy", "blazepose-full", "blazepose-lite")  # most accurate first
DETECTOR = "pose-detector"
CAMERA_FPS = 30.0  # what webcams deliver by default; many report 0 or a nominal rate
# a rate outside this range is a container's bogus value: treated as unknown (CAMERA_FPS)
PLAUSIBLE_FPS = (1.0, 240.0)
# the models get three quarters of a frame interval; the rest is capture, crop, decode, the
# filter and retarget stages, and the game's own frame
BUDGET_SHARE = 0.75
WARMUP = 5  # first runs allocate and tune kernels: slower, and not what a game sees
RUNS = 30  # enough for a stable median on a busy machine in about a second in all
CACHE_FILE = "auto-model.json"
_FORMAT = 1  # bump when the stored timings mean something else


@dataclass(frozen=True)
class ModelChoice:
    """Which model runs and why: `auto` False for a model asked for by name."""

    model: str
    auto: bool = False
    measured_ms: dict[str, float] = field(default_factory=dict)  # landmarks + detector
    budget_ms: float | None = None
    source_fps: float | None = None  # the rate the budget was made for
    cached: bool = False  # the timings were read back from the cache, not measured now

    def header(self) -> dict:
        """What the JSONL header records as `model_choice`."""
        if not self.auto:
            return {"auto": False}
        return {
            "auto": True,
            "measured_ms": {k: round(v, 2) for k, v in self.measured_ms.items()},
            "budget_ms": round(self.budget_ms or 0.0, 2),
            "source_fps": self.source_fps,
        }

    def label(self) -> str:
        """One line for the HUD: `blazepose-heavy (auto 21/25 ms)`: its cost, the budget."""
        if not self.auto:
            return self.model
        cost = self.measured_ms.get(self.model)
        spent = "?" if cost is None else f"{cost:.0f}"
        return f"{self.model} (auto {spent}/{self.budget_ms or 0:.0f} ms)"


def source_rate(fps: float, camera: bool) -> float:
    """Frames per second the model must keep up with: a camera's CAMERA_FPS, a file's own rate,
    CAMERA_FPS when the rate is unknown or implausible (an image or folder: the tracker's 30)."""
    if camera or not PLAUSIBLE_FPS[0] <= fps <= PLAUSIBLE_FPS[1]:
        return CAMERA_FPS
    return fps


def budget_ms(rate: float) -> float:
    """Milliseconds the models may take per frame at `rate` frames per second."""
    return BUDGET_SHARE * 1000.0 / rate


def choose(measured_ms: Mapping[str, float], budget: float) -> str:
    """The most accurate candidate whose cost fits `budget`, else the fastest one measured."""
    known = [name for name in CANDIDATES if name in measured_ms]
    if not known:
        raise PosetrackError("model auto: no BlazePose variant could be measured")
    for name in known:
        if measured_ms[name] <= budget:
            return name
    return min(known, key=lambda name: measured_ms[name])


def provider_for(device: str) -> str:
    """The execution provider OrtModel will pick for `device` (without opening a session)."""
    from posetrack.models.runtime import cuda_problem

    return "cuda" if device != "cpu" and cuda_problem() is None else "cpu"


def machine_key(provider: str) -> str:
    """What the timings depend on: CPU model, core count, ONNX Runtime version, provider."""
    import onnxruntime as ort

    return f"{_cpu_model()} | {os.cpu_count()} cores | onnxruntime {ort.__version__} | {provider}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


def available() -> list[str]:
    """Candidates usable here: converted in the cache, or fetchable (their client on PATH)."""
    found = []
    for name in CANDIDATES:
        client = zoo.spec(name).source.client
        if zoo.cached_onnx(name) is not None or shutil.which(client) or client == "pip":
            found.append(name)
    return found


def measure(names: Sequence[str], device: str, runs: int = RUNS) -> dict[str, float]:
    """Median ms per frame of each variant's landmark model plus the detector, on a real frame."""
    from posetrack.models.runtime import OrtModel

    sessions = {}
    try:
        for name in [DETECTOR, *names]:
            try:
                sessions[name] = OrtModel(zoo.onnx_path(name), device)
            except PosetrackError:  # not fetchable after all (offline): not a candidate
                if name == DETECTOR:
                    raise
        frame = _real_frame()
        feeds = {name: _feed(model, frame) for name, model in sessions.items()}
        times: dict[str, list[float]] = {name: [] for name in sessions}
        for round_ in range(WARMUP + runs):
            for name, model in sessions.items():  # interleaved: load bursts hit all alike
                start = time.perf_counter()
                model.run(feeds[name])
                if round_ >= WARMUP:
                    times[name].append((time.perf_counter() - start) * 1000.0)
    except PosetrackError:
        raise
    except Exception as error:  # an ONNX Runtime failure: one line, as for any model error
        raise ModelError(f"model auto: timing the models failed: {error}") from error
    finally:
        for model in sessions.values():
            model.close()
    detector = statistics.median(times.pop(DETECTOR))
    return {name: statistics.median(t) + detector for name, t in times.items()}


def _real_frame() -> np.ndarray:
    """A photo of a person (RGB uint8): the cached messi5.jpg, else a smooth gradient (the
    models' cost does not depend on what is in the picture; real pixels just avoid oddities)."""
    import cv2

    path = cache_dir() / "samples" / "messi5.jpg"
    image = cv2.imread(str(path)) if path.is_file() else None
    if image is not None:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    ramp = np.linspace(0, 255, 256, dtype=np.float32)
    return np.stack(np.meshgrid(ramp, ramp) + [np.full((256, 256), 128.0)], -1).astype(np.uint8)


def _feed(model: object, frame: np.ndarray) -> dict[str, np.ndarray]:
    import cv2

    name = model.input_names[0]
    _, height, width, _ = model.input_shapes[name]  # BlazePose inputs are NHWC, 0..1
    tensor = cv2.resize(frame, (width, height)).astype(np.float32) / 255.0
    return {name: tensor[None]}


def timings(
    device: str,
    candidates: Sequence[str] | None = None,
    measure_with: Callable[[Sequence[str], str], dict[str, float]] = measure,
) -> tuple[dict[str, float], bool]:
    """This machine's measured cost per candidate and whether it came from the cache; measures
    (and stores) when the cache has none for this machine and these model files."""
    names = list(available() if candidates is None else candidates)
    key = machine_key(provider_for(device))
    files = {name: zoo.converted_path(name).name for name in [DETECTOR, *names]}
    path = cache_dir() / CACHE_FILE
    stored = _read(path)
    entry = stored["machines"].get(key)
    if entry and entry.get("files") == files:
        return {k: float(v) for k, v in entry["measured_ms"].items()}, True
    measured = measure_with(names, device)
    stored["machines"][key] = {"files": files, "measured_ms": measured}
    _write(path, stored)
    return measured, False


def stored(device: str = "auto") -> dict[str, float] | None:
    """This machine's stored timings, if measured already (nothing is measured here)."""
    entry = _read(cache_dir() / CACHE_FILE)["machines"].get(machine_key(provider_for(device)))
    return None if not entry else {k: float(v) for k, v in entry["measured_ms"].items()}


def describe(device: str = "auto") -> str:
    """One line for `posetrack models list`: what auto picks here for a 30 fps camera."""
    measured = stored(device)
    if not measured:
        return "auto: not measured on this machine yet (the first tracker with model auto does)"
    budget = budget_ms(CAMERA_FPS)
    costs = ", ".join(f"{name} {ms:.1f}" for name, ms in measured.items())
    return (f"auto: {choose(measured, budget)} for a {CAMERA_FPS:g} fps camera here "
            f"(ms per frame, landmarks + detector: {costs}; budget {budget:.1f})")  # fmt: skip


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"format": _FORMAT, "machines": {}}
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return {"format": _FORMAT, "machines": {}}
    data.setdefault("machines", {})
    return data


def _write(path: Path, data: dict) -> None:
    try:  # temp file renamed into place: a reader never sees half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(data, indent=1))
        temp.replace(path)
    except OSError:
        pass  # a read-only cache: measured again next time, nothing worse


def resolve(model: str, fps: float, camera: bool, device: str = "auto") -> ModelChoice:
    """`model` as a ModelChoice: a name stays as given; AUTO is measured (once) and chosen."""
    if model != AUTO:
        return ModelChoice(model)
    rate = source_rate(fps, camera)
    budget = budget_ms(rate)
    measured, cached = timings(device)
    return ModelChoice(choose(measured, budget), True, measured, budget, rate, cached)


def choose_model(config: object, source: object) -> ModelChoice:
    """The ModelChoice for a TrackingConfig and its opened FrameSource (or a spec string when
    the model is named)."""
    from posetrack.stages.sources import WebcamSource

    fps = float(getattr(source, "fps", 0.0) or 0.0)
    return resolve(config.model, fps, isinstance(source, WebcamSource), config.device)
