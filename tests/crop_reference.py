"""The crop's specification, computed exactly: what both croppers (cv2.warpAffine on the CPU,
the compute shader on the GPU) are held to.

Crop pixel (x, y) takes the source at (sx, sy) = inverse(source_to_crop) @ (x, y, 1), computed in
float64; the value is the bilinear blend of the 2 x 2 source pixels around it (floor(sx),
floor(sy)) with weights from the fractional parts, taps outside the frame read 0 ("zero") or
the nearest edge pixel ("replicate"), rounded half to even to a uint8 grey level.

Any float32 implementation lands within one grey level of it: its coordinates are off by
~1e-4 px at 2000 px, which moves the blend by far less than a level but can cross a .5 and round
the other way. Hence the tolerance the parity tests use: GREY_LEVEL, one uint8 step.
"""

import numpy as np

GREY_LEVEL = 1.0 / 255.0  # one uint8 step in [0, 1] units (twice that in [-1, 1])


def exact_crop(image: np.ndarray, source_to_crop: np.ndarray, width: int, height: int,
               border: str) -> np.ndarray:  # fmt: skip
    """The specified crop of a uint8 H x W x C image: height x width x C uint8."""
    m = np.vstack([np.asarray(source_to_crop, np.float64), [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(m)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    sx = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    sy = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    x0, y0 = np.floor(sx), np.floor(sy)
    a, b = (sx - x0)[..., None], (sy - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)

    def tap(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        values = image[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)].astype(np.float64)
        return values if border == "replicate" else values * inside[..., None]

    top = tap(x0, y0) * (1 - a) + tap(x0 + 1, y0) * a
    bottom = tap(x0, y0 + 1) * (1 - a) + tap(x0 + 1, y0 + 1) * a
    return np.clip(np.rint(top * (1 - b) + bottom * b), 0, 255).astype(np.uint8)
