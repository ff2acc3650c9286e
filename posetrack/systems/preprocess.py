import esper

from posetrack.components import CameraFrame, ModelInput, RegionOfInterest
from posetrack.models.pose_model import PoseModel


class PreprocessSystem(esper.Processor):
    """Crops the region of interest out of the frame into the model's input tensor.

    Reads CameraFrame and RegionOfInterest. Writes ModelInput (the tensor and the map from
    crop pixels back to source pixels). The model says what to crop (its CropSpec); the cropper
    does it: CPU (one cv2.warpAffine) or GPU (the frame goes up as a texture once, a compute
    shader does crop, resize and normalisation), with the same result.
    """

    def __init__(self, model: PoseModel, cropper: object) -> None:
        self.model = model
        self.cropper = cropper  # CpuCropper or GpuCroppers

    def process(self) -> None:
        for ent, (frame, roi) in esper.get_components(CameraFrame, RegionOfInterest):
            # already cropped for this frame: nothing new to do
            if esper.has_component(ent, ModelInput):
                continue
            esper.add_component(ent, self.prepare(frame, roi))

    def prepare(self, frame: CameraFrame, roi: RegionOfInterest) -> ModelInput:
        """The model input for `roi` of `frame` (what process() writes)."""
        spec = self.model.crop(roi)
        tensor = self.cropper.crop(frame.pixels, frame.index, spec)
        return ModelInput(tensor, spec.crop_to_source, roi)
