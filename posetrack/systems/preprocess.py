import esper

from posetrack.components import CameraFrame, ModelInput, RegionOfInterest
from posetrack.models.blazepose_landmarks import preprocess_landmarks


class PreprocessSystem(esper.Processor):
    """Crops the region of interest out of the frame into the landmark model's input.

    Reads CameraFrame and RegionOfInterest. Writes ModelInput (the tensor and the map from
    crop pixels back to source pixels). CPU path: one bilinear affine warp, edge pixels
    replicated outside the frame as MediaPipe's landmark crop does.
    """

    def process(self) -> None:
        for ent, (frame, roi) in esper.get_components(CameraFrame, RegionOfInterest):
            # already cropped for this frame: nothing new to do
            if esper.has_component(ent, ModelInput):
                continue
            tensor, crop_to_source = preprocess_landmarks(frame.pixels, roi)
            esper.add_component(ent, ModelInput(tensor, crop_to_source, roi))
