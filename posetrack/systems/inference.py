import esper

from posetrack.components import ModelInput, ModelOutputs
from posetrack.models.runtime import OrtModel


class InferenceSystem(esper.Processor):
    """Runs the landmark model on the prepared input.

    Reads ModelInput. Writes ModelOutputs (raw output arrays by name). The ORT session is
    owned by the caller (PoseTrackingSystem closes it).
    """

    def __init__(self, model: OrtModel) -> None:
        self.model = model

    def process(self) -> None:
        for ent, model_input in esper.get_component(ModelInput):
            # already ran on this input
            if esper.has_component(ent, ModelOutputs):
                continue
            esper.add_component(ent, self.infer(model_input))

    def infer(self, model_input: ModelInput) -> ModelOutputs:
        """The model's raw outputs for one input (what process() writes)."""
        return ModelOutputs(self.model.run({self.model.input_names[0]: model_input.tensor}))
