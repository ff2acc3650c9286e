import time

import esper

from posetrack.components import EndOfStream, PoseResult, StageTimes, TrackerConfig, TrackingState
from posetrack.errors import PosetrackError
from posetrack.models import zoo
from posetrack.models.runtime import OrtModel
from posetrack.sources import FrameSource, open_source
from posetrack.systems.capture import CaptureSystem
from posetrack.systems.decode import DecodeSystem
from posetrack.systems.detect import DetectSystem
from posetrack.systems.inference import InferenceSystem
from posetrack.systems.preprocess import PreprocessSystem

_GPU_NOT_BUILT = "the GPU {stage} path is not built yet: use --{stage} auto or cpu"


class PoseTrackingSystem(esper.Processor):
    """The whole pipeline as one processor: capture -> detect -> preprocess -> inference -> decode.

    Creates its own tracker entity in the current esper world and writes, on it: CameraFrame,
    RegionOfInterest, ModelInput, ModelOutputs, PoseResult (read this), StageTimes (ms per
    stage on the newest frame) and EndOfStream once a finite source is exhausted. The stage
    processors stay usable on their own. Owns the source thread and the ORT sessions: close().
    """

    def __init__(self, source: str | FrameSource, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.backends = _choose_backends(self.config)
        model = zoo.spec(self.config.model)
        if not model.keypoints:
            raise PosetrackError(f"{model.name} is not a pose model: pick one with keypoints")
        self.keypoint_names = model.keypoints
        self._sessions = [
            OrtModel(zoo.onnx_path("pose-detector"), self.config.device),
            OrtModel(zoo.onnx_path(model.name), self.config.device),
        ]
        detector, landmarks = self._sessions
        self.backends["inference"] = landmarks.provider.removesuffix("ExecutionProvider").lower()
        self.notices = sorted({s.notice for s in self._sessions if s.notice})
        try:
            frames = open_source(source) if isinstance(source, str) else source
        except PosetrackError:
            self.close()
            raise
        self.source = frames
        self.entity = esper.create_entity(self.config, TrackingState(), StageTimes())
        self._stages: list[tuple[str, esper.Processor]] = [
            ("capture", CaptureSystem(frames, self.entity)),
            ("detect", DetectSystem(detector, self.keypoint_names)),
            ("preprocess", PreprocessSystem()),
            ("inference", InferenceSystem(landmarks)),
            ("decode", DecodeSystem(self.keypoint_names)),
        ]

    def process(self) -> None:
        times = esper.component_for_entity(self.entity, StageTimes)
        for name, stage in self._stages:
            start = time.perf_counter()
            stage.process()
            times.ms[name] = (time.perf_counter() - start) * 1000.0

    @property
    def result(self) -> PoseResult | None:
        """The newest frame's poses (None before the first frame)."""
        return esper.try_component(self.entity, PoseResult)

    @property
    def finished(self) -> bool:
        """True once a finite source has delivered its last frame and it has been decoded."""
        end = esper.try_component(self.entity, EndOfStream)
        result = self.result
        return end is not None and (end.frames == 0 or (result and result.frame == end.frames - 1))

    def close(self) -> None:
        for _, stage in getattr(self, "_stages", []):
            if isinstance(stage, CaptureSystem):
                stage.close()
        for session in self._sessions:
            session.close()
        self._sessions = []
        if esper.entity_exists(getattr(self, "entity", -1)):
            esper.delete_entity(self.entity, immediate=True)


def _choose_backends(config: TrackerConfig) -> dict[str, str]:
    """Preprocess and decode run on the CPU until the compute-shader paths land."""
    backends = {}
    for stage in ("preprocess", "decode"):
        wanted = getattr(config, stage)
        if wanted == "gpu":
            raise PosetrackError(_GPU_NOT_BUILT.format(stage=stage))
        if wanted not in ("auto", "cpu"):
            raise PosetrackError(f"--{stage} must be auto, gpu or cpu, not {wanted!r}")
        backends[stage] = "cpu"
    return backends
