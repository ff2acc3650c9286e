"""The pose stages of one tracker, built and wired: what PoseTrackingSystem runs.

`assemble()` chooses the paths (GPU or CPU per stage; a worker thread or the host's), opens the
ORT sessions and the source, creates the tracker entity and chains the stage processors into a
FramePipeline, with the swap correction and the player slots where they apply. Everything it
opens is appended to `owned` in the order it must be closed in reverse, so a failure half way
leaves nothing open once the caller closes that list.
"""

from dataclasses import dataclass

import esper

from posetrack.components import StageTimes, TrackingConfig, TrackingState
from posetrack.components.tracker import TrackingStatus
from posetrack.models import zoo
from posetrack.models.runtime import OrtModel
from posetrack.stages.backends import choose_backends, make_paths
from posetrack.stages.guard import TrackingGuard
from posetrack.stages.identity import IdentityState
from posetrack.stages.pipeline import FramePipeline
from posetrack.stages.sources import FrameSource, open_source
from posetrack.stages.swaps import SwapGuard
from posetrack.systems.capture import CaptureSystem
from posetrack.systems.decode import DecodeSystem
from posetrack.systems.detect import DetectSystem
from posetrack.systems.inference import InferenceSystem
from posetrack.systems.preprocess import PreprocessSystem


@dataclass
class Assembly:
    """The built stages: the tracker entity, the stage processors by name, the pipeline that
    chains them, the guard that turns failures into status, and what was chosen."""

    entity: int
    source: FrameSource
    stages: dict[str, esper.Processor]
    pipeline: FramePipeline
    guard: TrackingGuard
    live: bool  # the pose stages run on a worker thread
    backends: dict[str, str]  # stage -> where it runs (and the GL renderer, if any)
    notices: list[str]  # one line each: what was chosen and why, where not obvious
    gpu_context: object | None  # the GL context a GPU path runs on, if any


def assemble(
    config: TrackingConfig,
    model: object,
    source: str | FrameSource,
    gpu_context: object | None,
    live: bool,
    owned: list[object],
) -> Assembly:
    """Build every pose stage for `model` (a loaded pose model adapter); see the module."""
    paths = (config.preprocess, config.decode)
    live_notice = ""
    if live and "gpu" in paths:
        # GL work must stay on the thread that owns the context: a GPU stage asked for by
        # name runs the whole pipeline in lockstep on the host's thread, as it says
        live, live_notice = False, "a GPU stage was asked for: tracking runs on the game's thread"
    elif live:
        # auto on the worker thread: the CPU paths (GL stages cannot run off the GL thread)
        paths = tuple("cpu" if p == "auto" else p for p in paths)
    choice = choose_backends(*paths, gpu_context)
    if choice.context is not None and gpu_context is None:
        owned.append(choice.context)
    cropper, ops = make_paths(choice)
    owned += [cropper, ops]
    detector = None
    if model.uses_detector:
        detector = OrtModel(zoo.onnx_path("pose-detector"), config.device)
        owned.append(detector)
    landmarks = OrtModel(zoo.onnx_path(model.name), config.device)
    owned.append(landmarks)
    backends = {
        "preprocess": choice.preprocess,
        "inference": landmarks.provider.removesuffix("ExecutionProvider").lower(),
        "decode": choice.decode,
    }
    if choice.renderer:
        backends["gl_renderer"] = choice.renderer
    notices = sorted({n for n in (choice.notice, landmarks.notice, live_notice) if n})
    frames = open_source(source) if isinstance(source, str) else source
    owned.append(frames)
    state = TrackingState()
    entity = esper.create_entity(config, state, StageTimes(), TrackingStatus())
    capture = CaptureSystem(frames, entity, paced=live)
    owned[-1] = capture  # it closes the source from now on
    names = model.keypoint_names
    detect = DetectSystem(detector, names, cropper)
    preprocess = PreprocessSystem(model, cropper)
    inference, decode = InferenceSystem(landmarks), DecodeSystem(model, ops)
    stages: dict[str, esper.Processor] = {
        "capture": capture, "detect": detect, "preprocess": preprocess,
        "inference": inference, "decode": decode,
    }  # fmt: skip
    counters = {"preprocess": cropper, "decode": ops}
    if landmarks.provider == "CUDAExecutionProvider":  # its input up, its outputs down
        counters["inference"] = landmarks
    pipeline = FramePipeline(entity, state, detect, preprocess, inference, decode, counters)
    pipeline.stills = frames.stills
    slots = getattr(model, "max_poses", 1)
    if slots >= 2:  # several people: each keeps a player slot (stages/identity.py)
        pipeline.identity = IdentityState(slots)
    if config.fix_swaps:  # left/right swap correction (stages/swaps.py)
        pipeline.swaps = SwapGuard(names)
    on_gpu = "gpu" in (choice.preprocess, choice.decode)
    return Assembly(
        entity, frames, stages, pipeline, TrackingGuard(entity, names, frames), live, backends,
        notices, choice.context if on_gpu else None,
    )  # fmt: skip
