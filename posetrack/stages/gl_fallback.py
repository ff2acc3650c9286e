"""A GPU stage that carries on on the CPU when its GL context is gone.

A game may close the window whose GL context the tracker borrowed (a settings screen that
reopens the window, a renderer switch, a lost device). Panda keeps that context's objects
around, but a compute dispatch on them reads freed GL state. `GlFallback` wraps a GPU path (the
cropper or the heatmap ops) and checks the context before each call: once it is gone, the GPU
path is dropped for good and its CPU twin takes every later call. The call that finds the
context gone raises `ContextLostError` (once for all the tracker's GPU paths: `ContextWatch`),
so that frame is given up with a reason (the tracker's
status says "lost" and why, the character relaxes for that frame), and tracking resumes on the
next frame on the CPU path, which gives the same answers (tests hold the two paths together).
"""

from collections.abc import Callable
from typing import Any

from posetrack.errors import PosetrackError


class ContextLostError(PosetrackError):
    """The GL context a GPU stage ran on is gone; the stage continues on the CPU."""


class ContextWatch:
    """The one GL context the GPU paths of a tracker share, and whether its loss was reported:
    the first path to find it gone raises for all of them, the others switch quietly (one
    frame given up, not one per stage)."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.stages: list[str] = []  # the stages on the GPU path, for the message
        self.reported = False

    def lost(self) -> bool:
        return not self.context.alive

    def report(self) -> None:
        if not self.reported:
            self.reported = True
            stages = " and ".join(self.stages)
            raise ContextLostError(
                f"the GL context was lost (the game's window closed): {stages} continue on the CPU"
            )


class GlFallback:
    """Either path of one stage: the GPU one while its context lives, then the CPU one.

    `gpu`: a GPU cropper or heatmap ops; `make_cpu()` builds the CPU twin when needed;
    `watch`: the ContextWatch of the GpuContext the GPU path runs on (checked per call);
    `stage`: the stage's name for messages ("preprocess", "decode"). Byte counters add up
    both paths, so per-frame differences stay right across the switch. `close()` closes the
    path in use.
    """

    def __init__(
        self, gpu: Any, make_cpu: Callable[[], Any], watch: ContextWatch, stage: str
    ) -> None:
        self._gpu: Any | None = gpu
        self._cpu: Any | None = None
        self._make_cpu = make_cpu
        self._watch = watch
        watch.stages.append(stage)
        self._retired = (0, 0)  # the GPU path's byte counters when it was given up

    @property
    def on_gpu(self) -> bool:
        return self._gpu is not None

    @property
    def total_uploaded(self) -> int:
        return self._retired[0] + _counter(self._gpu or self._cpu, "uploaded")

    @property
    def total_read_back(self) -> int:
        return self._retired[1] + _counter(self._gpu or self._cpu, "read_back")

    def __getattr__(self, name: str) -> Any:
        """The path's own method or attribute (crop, refine, posenet, local_maxima, ...)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._path(), name)

    def _path(self) -> Any:
        if self._gpu is None:
            return self._cpu
        if not self._watch.lost():
            return self._gpu
        gpu, self._gpu = self._gpu, None
        self._retired = (_counter(gpu, "uploaded"), _counter(gpu, "read_back"))
        gpu.close()  # drops its textures; Panda defers the GL releases to the (gone) context
        self._cpu = self._make_cpu()
        self._watch.report()  # raises for the first stage to find it gone
        return self._cpu

    def close(self) -> None:
        for path in (self._gpu, self._cpu):
            if path is not None:
                path.close()
        self._gpu = self._cpu = None


def _counter(path: Any, kind: str) -> int:
    """A path's running byte count (`total_uploaded`, `total_read_back`)."""
    return 0 if path is None else int(getattr(path, f"total_{kind}"))
