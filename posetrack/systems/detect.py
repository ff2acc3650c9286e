import esper

from posetrack.components import (
    CameraFrame,
    ModelInput,
    ModelOutputs,
    PoseResult,
    RegionOfInterest,
    TrackingState,
)
from posetrack.models.blazepose_detector import DetectorDecoder, preprocess_detector
from posetrack.models.runtime import OrtModel


class DetectSystem(esper.Processor):
    """Starts the pipeline on each new frame by choosing the region of interest.

    Reads CameraFrame and TrackingState. Writes RegionOfInterest, or an empty PoseResult when
    nobody is in view. Runs the person detector only when TrackingState holds no ROI from the
    previous frame's landmarks (first frame, or tracking lost), as MediaPipe's pose graph does.
    """

    def __init__(self, detector: OrtModel, keypoint_names: tuple[str, ...]) -> None:
        self.detector = detector
        self.decoder = DetectorDecoder()
        self.keypoint_names = keypoint_names

    def process(self) -> None:
        for ent, (frame, state) in esper.get_components(CameraFrame, TrackingState):
            # a live source repeats its newest frame until the next one arrives: skip it
            if state.last_frame == frame.index:
                continue
            state.last_frame = frame.index
            # a new frame clears what the later stages derived from the last one
            for stale in (RegionOfInterest, ModelInput, ModelOutputs):
                esper.try_remove_component(ent, stale)
            # tracking: the ROI predicted from the last landmarks; else ask the detector
            roi = state.next_roi or self._detect(frame)
            if roi is None:
                esper.add_component(ent, self._nobody(frame))
            else:
                esper.add_component(ent, roi)

    def _detect(self, frame: CameraFrame) -> RegionOfInterest | None:
        tensor, crop_to_source = preprocess_detector(frame.pixels)
        outputs = self.detector.run({self.detector.input_names[0]: tensor})
        height, width = frame.pixels.shape[:2]
        rois = self.decoder.decode(outputs, crop_to_source, width, height)
        return rois[0] if rois else None

    def _nobody(self, frame: CameraFrame) -> PoseResult:
        return PoseResult(frame.index, frame.time, self.keypoint_names, [], frame.t_capture)
