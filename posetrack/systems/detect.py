import esper

from posetrack.components import (
    CameraFrame,
    ModelInput,
    ModelOutputs,
    PoseResult,
    RegionOfInterest,
    TrackingState,
)
from posetrack.models.blazepose_detector import DetectorDecoder, detector_crop
from posetrack.models.runtime import OrtModel
from posetrack.stages.geometry import full_frame_roi


class DetectSystem(esper.Processor):
    """Starts the pipeline on each new frame by choosing the region of interest.

    Reads CameraFrame and TrackingState. Writes RegionOfInterest, or an empty PoseResult when
    nobody is in view. With a detector (BlazePose), it runs only when TrackingState holds no ROI
    from the previous frame's landmarks (first frame, or tracking lost), as MediaPipe's pose
    graph does; without one (PoseNet, MoveNet) the ROI is the whole frame.
    """

    def __init__(
        self, detector: OrtModel | None, keypoint_names: tuple[str, ...], cropper: object
    ) -> None:
        self.detector = detector
        self.decoder = DetectorDecoder() if detector is not None else None
        self.keypoint_names = keypoint_names
        self.cropper = cropper  # CpuCropper or GpuCroppers: the detector's letterbox

    def process(self) -> None:
        for ent, (frame, state) in esper.get_components(CameraFrame, TrackingState):
            # a live source repeats its newest frame until the next one arrives: skip it
            if state.last_frame == frame.index:
                continue
            state.last_frame = frame.index
            # a new frame clears what the later stages derived from the last one
            for stale in (RegionOfInterest, ModelInput, ModelOutputs):
                esper.try_remove_component(ent, stale)
            roi = self.choose_roi(frame, state)
            esper.add_component(ent, self.nobody(frame) if roi is None else roi)

    def choose_roi(self, frame: CameraFrame, state: TrackingState) -> RegionOfInterest | None:
        """The frame's ROI: the one predicted from the last landmarks (tracking), else the
        detector's; None when nobody is in view. (process() and the tracker's worker both
        run the stage through this.)"""
        return state.next_roi or self._detect(frame)

    def _detect(self, frame: CameraFrame) -> RegionOfInterest | None:
        height, width = frame.pixels.shape[:2]
        if self.detector is None:
            return full_frame_roi(width, height)
        spec = detector_crop(width, height)
        tensor = self.cropper.crop(frame.pixels, frame.index, spec)
        outputs = self.detector.run({self.detector.input_names[0]: tensor})
        rois = self.decoder.decode(outputs, spec.crop_to_source, width, height)
        return rois[0] if rois else None

    def nobody(self, frame: CameraFrame) -> PoseResult:
        return PoseResult(frame.index, frame.time, self.keypoint_names, [], frame.t_capture)
