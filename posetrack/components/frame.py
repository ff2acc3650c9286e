from dataclasses import dataclass

import numpy as np


@dataclass
class CameraFrame:
    """The newest frame handed over by the capture stage."""

    pixels: np.ndarray  # H x W x 3 uint8, BGR (OpenCV order)
    index: int  # 0-based frame number in the source
    time: float  # seconds since the start of the stream (media time for files)
    t_capture: float  # time.perf_counter() when the frame was read


@dataclass
class EndOfStream:
    """Added to the source entity once a finite source (file, image, folder) is exhausted."""

    frames: int  # frames delivered in all
