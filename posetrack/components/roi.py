from dataclasses import dataclass


@dataclass
class RegionOfInterest:
    """A rotated rectangle in source pixels around the person (MediaPipe's NormalizedRect,
    in pixels). rotation is in radians, clockwise as seen on screen (y down; MediaPipe's and
    cv::RotatedRect's convention): the crop's "up" points along (sin r, -cos r) in the source
    image. posetrack.stages.geometry holds the maps between source and crop pixels."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0
    from_detector: bool = False  # True when the detector made it, False when last landmarks did
