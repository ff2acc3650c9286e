import time

import esper

from posetrack.backends import choose_backends, make_paths
from posetrack.components import EndOfStream, PoseResult, StageTimes, TrackerConfig, TrackingState
from posetrack.models import zoo
from posetrack.models.pose_model import load_pose_model
from posetrack.models.runtime import OrtModel
from posetrack.sources import FrameSource, open_source
from posetrack.systems.capture import CaptureSystem
from posetrack.systems.decode import DecodeSystem
from posetrack.systems.detect import DetectSystem
from posetrack.systems.inference import InferenceSystem
from posetrack.systems.preprocess import PreprocessSystem


class PoseTrackingSystem(esper.Processor):
    """The whole pipeline as one processor: capture -> detect -> preprocess -> inference -> decode.

    Creates its own tracker entity in the current esper world and writes, on it: CameraFrame,
    RegionOfInterest, ModelInput, ModelOutputs, PoseResult (read this), StageTimes (ms and
    host <-> GPU bytes per stage on the newest frame) and EndOfStream once a finite source is
    exhausted. The stage processors stay usable on their own. Owns the source thread, the ORT
    sessions and the GPU paths' resources: close(). `gpu_context` lends a host's GpuContext
    (posetrack.gpu.GpuContext.from_showbase) instead of a headless one of our own.
    """

    def __init__(
        self,
        source: str | FrameSource,
        config: TrackerConfig | None = None,
        max_poses: int = 1,
        gpu_context: object | None = None,
    ) -> None:
        self.config = config or TrackerConfig()
        self.model = load_pose_model(self.config.model, max_poses)
        self.keypoint_names = self.model.keypoint_names
        self._owned: list[object] = []  # closed in reverse order
        try:
            self._build(source, gpu_context)
        except BaseException:
            self.close()
            raise

    def _build(self, source: str | FrameSource, gpu_context: object | None) -> None:
        choice = choose_backends(self.config.preprocess, self.config.decode, gpu_context)
        if choice.context is not None and gpu_context is None:
            self._owned.append(choice.context)
        cropper, ops = make_paths(choice)
        self._owned += [cropper, ops]
        detector = None
        if self.model.uses_detector:
            detector = OrtModel(zoo.onnx_path("pose-detector"), self.config.device)
            self._owned.append(detector)
        landmarks = OrtModel(zoo.onnx_path(self.model.name), self.config.device)
        self._owned.append(landmarks)
        self.backends = {
            "preprocess": choice.preprocess,
            "inference": landmarks.provider.removesuffix("ExecutionProvider").lower(),
            "decode": choice.decode,
        }
        if choice.renderer:
            self.backends["gl_renderer"] = choice.renderer
        self.notices = sorted({n for n in (choice.notice, landmarks.notice) if n})
        self.source = open_source(source) if isinstance(source, str) else source
        self._owned.append(self.source)
        self.entity = esper.create_entity(self.config, TrackingState(), StageTimes())
        capture = CaptureSystem(self.source, self.entity)
        self._owned[-1] = capture  # it closes the source from now on
        self._stages: list[tuple[str, esper.Processor]] = [
            ("capture", capture),
            ("detect", DetectSystem(detector, self.keypoint_names, cropper)),
            ("preprocess", PreprocessSystem(self.model, cropper)),
            ("inference", InferenceSystem(landmarks)),
            ("decode", DecodeSystem(self.model, ops)),
        ]
        self._counters = {"preprocess": cropper, "decode": ops}

    def process(self) -> None:
        times = esper.component_for_entity(self.entity, StageTimes)
        for name, stage in self._stages:
            counter = self._counters.get(name)
            before = (counter.total_uploaded, counter.total_read_back) if counter else (0, 0)
            start = time.perf_counter()
            stage.process()
            times.ms[name] = (time.perf_counter() - start) * 1000.0
            if counter is not None:
                times.bytes_up[name] = counter.total_uploaded - before[0]
                times.bytes_down[name] = counter.total_read_back - before[1]

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
        """Stop the capture thread, free GPU resources and ORT sessions; idempotent."""
        for resource in reversed(self._owned):
            resource.close()
        self._owned = []
        entity = getattr(self, "entity", None)
        if entity is not None and esper.entity_exists(entity):
            esper.delete_entity(entity, immediate=True)
        self.entity = None
