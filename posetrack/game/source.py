"""Where the demo's frames come from: the webcam when one opens, else a sample clip, looping."""

import logging
import threading
import time

import numpy as np

from posetrack.errors import SourceError
from posetrack.stages.sources import FrameSource, open_source, resolve_source

log = logging.getLogger("posetrack")

DEFAULT_CAMERA = "webcam:0"
DEFAULT_CLIP = "sample:sports2d-demo.mp4"
_WAIT_S = 0.05  # how often a reader waiting for the game re-checks for stop(): bounds close()


class LoopingClip(FrameSource):
    """A video (or image) source that starts over at its end, so the game never runs dry.

    `paced=True`: frames come at the clip's own rate in real time and the source reports itself
    live, so the tracker always takes the newest one, as from a camera (interactive play).
    `paced=False`: every frame in order, one per `release_frame()` call (the headless mode: the
    game releases one clip frame per game frame, so runs repeat exactly, and a frame is read
    just when the game wants it, as a camera delivers it: no read-ahead queue to wait in).
    Times keep increasing across loops (the filter's time steps stay positive).
    """

    def __init__(self, spec: str, paced: bool, loop: bool = True) -> None:
        self.spec = resolve_source(spec)
        self._source = open_source(self.spec)
        self.loop = loop  # False: the stream ends with the clip (the scene's Source.loop)
        self.description = f"{self._source.description}, " + ("looping" if loop else "once")
        self.live = paced
        self.fps = self._source.fps or 30.0  # an image has no rate: show it at 30 fps
        self.size = self._source.size
        self.frame_count = None if loop else self._source.frame_count  # looping: endless
        self.loops = 0  # times the clip has started over
        self._offset = 0.0  # media time of the start of the current loop
        self._last = 0.0
        self._t0: float | None = None  # perf_counter() at media time 0 (paced)
        self._credits = threading.Semaphore(0)  # frames the game has asked for (not paced)
        self._stopped = threading.Event()

    def release_frame(self) -> None:
        """Let one more frame be read (unpaced mode; the paced mode ignores it)."""
        if not self.live:
            self._credits.release()

    def stop(self) -> None:
        """End the stream: a reader waiting for `release_frame` gets None (before close())."""
        self._stopped.set()

    def read(self) -> tuple[np.ndarray, float] | None:
        # unpaced: wait until the game asks for a frame (or the stream is stopped)
        while not self.live and not self._credits.acquire(timeout=_WAIT_S):
            if self._stopped.is_set():
                return None
        if self._stopped.is_set():
            return None
        item = self._source.read()
        if item is None and not self.loop:  # the end of a clip played once
            return None
        if item is None:  # the end: start over, one frame period after the last frame
            self._source.close()
            self._source = open_source(self.spec)
            self._offset = self._last + 1.0 / self.fps
            self.loops += 1
            item = self._source.read()
            if item is None:
                raise SourceError(f"{self.description} gave no frame after starting over")
        frame, t = item[0], self._offset + item[1]
        self._last = t
        if self.live:
            # hold each frame until its media time: real-time playback
            if self._t0 is None:
                self._t0 = time.perf_counter() - t
            wait = self._t0 + t - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        return frame, t

    def close(self) -> None:
        self._source.close()


def check_source(spec: str) -> None:
    """Raise SourceError now when `--source SPEC` cannot be opened: a source the player named
    must not turn into a game without tracking."""
    open_source(resolve_source(spec)).close()


def open_game_source(
    spec: str | None, offscreen: bool, loop: bool = True
) -> tuple[FrameSource, str]:
    """The source for `--source SPEC` (None: the webcam, else the sample clip) and a one-line
    notice for the player ("" when there is nothing to say).

    Files, images and sample clips loop unless `loop` is False (then the stream ends with the
    clip and the tracker reports "ended"); a camera is used as it is. Raises SourceError when
    an explicit SPEC cannot be opened.
    """
    if spec is None:
        try:
            return open_source(DEFAULT_CAMERA), ""
        except SourceError as error:
            why = str(error).split(";")[0]
            notice = f"no webcam ({why}): playing the sample clip {DEFAULT_CLIP}"
            return LoopingClip(DEFAULT_CLIP, paced=not offscreen, loop=loop), notice
    if spec.strip().lower().startswith("webcam"):
        return open_source(spec), ""
    return LoopingClip(spec, paced=not offscreen, loop=loop), ""
