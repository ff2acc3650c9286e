"""Frame sources: a video file, an image, a folder of images, or a webcam (`webcam:N`).

`open_source(spec)` picks the kind from the spec and checks up front that a first frame can be
read, so a bad source fails with a `SourceError` before any model is loaded; `resolve_source`
turns `sample:NAME` into the fetched sample clip.

Every source hands out BGR uint8 frames with their time in seconds. Images and image folders
have no clock of their own: they are given `fps = 30.0` (`image_fps`) and frame i the time
i / fps, so that dt-aware smoothing sees the same steady step it would see on a 30 fps video.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from posetrack.downloads.samples import SAMPLES, sample_path
from posetrack.errors import SourceError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)
DEFAULT_IMAGE_FPS = 30.0  # the frame rate of most webcams and phone clips: a familiar dt
# A live camera delivers at 5+ fps even at its longest exposure: 2 s without a frame means it
# was unplugged or hung, not that it is slow.
DEFAULT_STALL_TIMEOUT_S = 2.0
_RETRY_SLEEP_S = 0.01  # between failed camera reads: yields the CPU without adding latency
# Container frame counts of files without an index (mkv, webm) are estimated from the duration
# and can be off by a frame or two; a bigger shortfall means the file is cut short.
_TRUNCATION_TOLERANCE = 2


class FrameSource(ABC):
    """A stream of BGR uint8 frames. Use as a context manager or call `close()`."""

    description: str  # how messages name the source, e.g. "video 'clip.mp4'"
    live: bool = False  # True for cameras: frames keep coming in real time and can be missed
    # True for a folder of images: unrelated stills, so nothing (a tracked ROI, smoothing)
    # carries over from one frame to the next; `names[i]` is frame i's file name
    stills: bool = False
    names: tuple[str, ...] = ()
    fps: float  # nominal frames per second (images: image_fps; cameras: as reported, or 0)
    size: tuple[int, int]  # (width, height) of the first frame
    frame_count: int | None  # None when unknown or endless

    @abstractmethod
    def read(self) -> tuple[np.ndarray, float] | None:
        """The next frame and its time in seconds, or None at the end of the stream."""

    @abstractmethod
    def close(self) -> None:
        """Release the file or device; reading afterwards is an error."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own multi-line warnings while probing; our SourceError says it better."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"'{path}' is not a readable image (damaged, or not really an image)")
    return image


class VideoFileSource(FrameSource):
    """A video file decoded by OpenCV (FFmpeg); times are the frames' presentation times."""

    def __init__(self, path: Path) -> None:
        self.description = f"video '{path}'"
        with quiet_opencv():
            self._cap = cv2.VideoCapture(str(path))
            ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            raise SourceError(
                f"'{path}' is not a readable video or image (damaged, truncated, or not a "
                "media file); try playing it in a media player, or re-encode it to MP4"
            )
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or DEFAULT_IMAGE_FPS
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self.size = (first.shape[1], first.shape[0])
        self._pending: np.ndarray | None = first
        self._index = 0
        self._last_time = -1.0

    def _time(self) -> float:
        """The presentation time of the frame just read; i / fps when the container has none."""
        t = float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
        return t if t > self._last_time else self._index / self.fps

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            ok, frame = self._cap.read()
            if not ok or frame is None:
                self._check_complete()
                return None
        t = self._time()
        self._last_time = t
        self._index += 1
        return frame, t

    def _check_complete(self) -> None:
        if self.frame_count is not None and self._index < self.frame_count - _TRUNCATION_TOLERANCE:
            raise SourceError(
                f"{self.description} ended after {self._index} of the {self.frame_count} frames "
                "its header declares: the file is truncated or damaged (re-download or re-encode "
                "it)"
            )

    def close(self) -> None:
        self._cap.release()


class ImageFilesSource(FrameSource):
    """One image, or the images of a folder in natural name order (frame2 before frame10).

    Several images are unrelated stills unless `sequence=True` says they are a video's frames
    (then tracking and smoothing carry over from one to the next, as in a video).
    """

    def __init__(
        self, paths: list[Path], description: str, fps: float, sequence: bool = False
    ) -> None:
        self.description = description
        self.fps = fps
        self.frame_count = len(paths)
        self.stills = len(paths) > 1 and not sequence
        self.names = tuple(path.name for path in paths)
        self._paths = paths
        self._pending: np.ndarray | None = _read_image(paths[0])
        self.size = (self._pending.shape[1], self._pending.shape[0])
        self._index = 0

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._index >= len(self._paths):
            return None
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            frame = _read_image(self._paths[self._index])
        t = self._index / self.fps
        self._index += 1
        return frame, t

    def close(self) -> None:
        self._index = len(self._paths)  # nothing is held open; later reads end the stream


class WebcamSource(FrameSource):
    """A live camera. Times are seconds since it was opened. If the camera stops delivering
    frames (unplugged) for `stall_timeout` seconds, `read()` logs a warning and ends the stream.

    Normally made by `open_source("webcam:N")`; the constructor takes any opened capture.
    """

    live = True

    def __init__(
        self, cap: cv2.VideoCapture, index: int, stall_timeout: float = DEFAULT_STALL_TIMEOUT_S
    ) -> None:
        self.description = f"camera {index} (webcam:{index})"
        self._cap = cap
        self._stall_timeout = stall_timeout
        self._t0 = time.perf_counter()
        first = self._read_with_timeout()
        if first is None:
            cap.release()
            raise SourceError(
                f"{self.description} opened but delivered no frame in {stall_timeout:g} s; "
                "check that no other program is using it, or give a video file instead"
            )
        self._pending: np.ndarray | None = first
        self.size = (first.shape[1], first.shape[0])
        self.fps = max(float(cap.get(cv2.CAP_PROP_FPS)), 0.0)
        self.frame_count = None

    def _read_with_timeout(self) -> np.ndarray | None:
        start = time.perf_counter()
        while time.perf_counter() - start < self._stall_timeout:
            ok, frame = self._cap.read()
            if ok and frame is not None:
                return frame
            time.sleep(_RETRY_SLEEP_S)
        return None

    def read(self) -> tuple[np.ndarray, float] | None:
        frame, self._pending = self._pending, None
        if frame is None:
            frame = self._read_with_timeout()
        if frame is None:
            log.warning(
                "%s delivered no frame for %g s (unplugged?): ending the stream",
                self.description, self._stall_timeout,
            )  # fmt: skip
            return None
        return frame, time.perf_counter() - self._t0

    def close(self) -> None:
        self._cap.release()


def _natural_key(path: Path) -> list[int | str]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _open_webcam(spec: str, stall_timeout: float) -> WebcamSource:
    match = re.fullmatch(r"webcam:(\d+)", spec.strip())
    if match is None:
        raise SourceError(
            f"'{spec}' is not a camera: write webcam:N with N the camera index (webcam:0 is the "
            "first camera)"
        )
    index = int(match.group(1))
    with quiet_opencv():
        cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        cap.release()
        hint = ""
        if sys.platform.startswith("linux"):
            found = sorted(p.name for p in Path("/dev").glob("video*"))
            hint = f" (cameras here: {', '.join(found)})" if found else " (no /dev/video* here)"
        raise SourceError(
            f"cannot open camera {index} (webcam:{index}): no such camera, or another program is "
            f"using it{hint}; try another index, or give a video file, image or image folder "
            "instead (e.g. the sample clip)"
        )
    return WebcamSource(cap, index, stall_timeout)


def open_source(
    spec: str,
    image_fps: float = DEFAULT_IMAGE_FPS,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT_S,
    sequence: bool = False,
) -> FrameSource:
    """Open a video file, an image file, a folder of images, or `webcam:N`. A folder's images
    are unrelated stills unless `sequence` (a video's frames, as files).

    Raises SourceError, saying what is wrong and what to do, when the source cannot be read.
    """
    path = Path(spec).expanduser()
    if spec.strip().lower().startswith("webcam") and not path.exists():
        return _open_webcam(spec, stall_timeout)
    if not path.exists():
        raise SourceError(f"'{spec}' does not exist: give a video file, image, folder or webcam:N")
    if path.is_dir():
        images = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        if not images:
            raise SourceError(
                f"folder '{path}' holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}): "
                "give a folder of frames, or a video file"
            )
        ordered = sorted(images, key=_natural_key)
        return ImageFilesSource(ordered, f"folder '{path}'", image_fps, sequence)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFilesSource([path], f"image '{path}'", image_fps)
    return VideoFileSource(path)


def resolve_source(spec: str) -> str:
    """`sample:NAME` is one of the sample clips (fetched on first use); anything else as is."""
    if not spec.startswith("sample:"):
        return spec
    name = spec.removeprefix("sample:")
    if name not in SAMPLES:
        raise SourceError(f"no sample named {name!r}; samples: {', '.join(SAMPLES)}")
    return str(sample_path(name))
