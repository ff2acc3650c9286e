from dataclasses import dataclass


@dataclass
class RegionOfInterest:
    """A rotated rectangle in source pixels around the person (MediaPipe's NormalizedRect,
    in pixels). rotation is in radians, counter-clockwise in the image as seen on screen
    (MediaPipe's convention); the crop's "up" points along -y rotated by it."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0
    from_detector: bool = False  # True when the detector made it, False when last landmarks did
