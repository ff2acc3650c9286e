from dataclasses import dataclass, field

import numpy as np

from posetrack.components.roi import RegionOfInterest


@dataclass
class ModelInput:
    """The model-ready tensor and the affine map from its pixels back to source pixels."""

    tensor: np.ndarray  # model layout and range, float32, batch of 1
    crop_to_source: np.ndarray  # 2 x 3 float64: [x_src, y_src] = M @ [x_crop, y_crop, 1]
    roi: RegionOfInterest  # the region the tensor was cropped from


@dataclass
class ModelOutputs:
    """Raw model outputs by output name, exactly as the runtime returned them."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
