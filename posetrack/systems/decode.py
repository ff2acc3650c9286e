import esper

from posetrack.components import CameraFrame, ModelInput, ModelOutputs, PoseResult, TrackingState
from posetrack.models.blazepose_landmarks import decode_landmarks, roi_from_landmarks


class DecodeSystem(esper.Processor):
    """Turns raw landmark-model outputs into a pose in source pixels.

    Reads CameraFrame, ModelInput and ModelOutputs. Writes PoseResult (33 named keypoints,
    visibility as confidence, world landmarks) and TrackingState.next_roi: the ROI for the next
    frame from these landmarks, or None when the pose is lost so the detector runs again.
    """

    def __init__(self, keypoint_names: tuple[str, ...], refine: bool = True) -> None:
        self.keypoint_names = keypoint_names
        self.refine = refine  # MediaPipe's heatmap refinement of the regressed landmarks

    def process(self) -> None:
        query = esper.get_components(CameraFrame, ModelInput, ModelOutputs, TrackingState)
        for ent, (frame, model_input, outputs, state) in query:
            done = esper.try_component(ent, PoseResult)
            # already decoded for this frame
            if done is not None and done.frame == frame.index:
                continue
            pose, aux = decode_landmarks(
                outputs.arrays, model_input.crop_to_source, model_input.roi, refine=self.refine
            )
            height, width = frame.pixels.shape[:2]
            # tracking: the next frame is cropped where these landmarks are, or re-detected
            state.next_roi = None if pose is None else roi_from_landmarks(aux, width, height)
            poses = [] if pose is None else [pose]
            result = PoseResult(
                frame.index, frame.time, self.keypoint_names, poses, frame.t_capture
            )
            esper.add_component(ent, result)
