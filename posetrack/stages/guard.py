"""Run-time failures of the tracking pipeline, turned into a status instead of an exception.

A game's frame loop must survive a camera that is unplugged, an ONNX Runtime error or a model
that returns NaN: PoseTrackingSystem hands each such failure to a TrackingGuard, which gives the
frame up (an empty PoseResult, so consumers see "nobody" and characters relax to rest), forgets
the tracking ROI (the detector starts afresh on the next frame), writes TrackingStatus, and logs
one warning per kind of failure, not one per frame.
"""

import logging

import esper
import numpy as np

from posetrack.components import (
    CameraFrame,
    EndOfStream,
    ModelInput,
    ModelOutputs,
    PoseEstimate,
    PoseResult,
    RegionOfInterest,
    TrackingState,
)
from posetrack.components.tracker import TrackingStatus
from posetrack.errors import ModelError
from posetrack.stages.sources import FrameSource

log = logging.getLogger("posetrack")


class NonFiniteOutputError(ModelError):
    """The model returned NaN or infinity (a broken model file, driver or input)."""


class TrackingGuard:
    """Keeps TrackingStatus on the tracker entity; see the module docstring."""

    def __init__(self, entity: int, keypoint_names: tuple[str, ...], source: FrameSource) -> None:
        self.entity = entity
        self.keypoint_names = keypoint_names
        self.source = source
        self._warned: set[tuple[str, str]] = set()  # (stage, error type) already warned about
        self._settled = -1  # the PoseResult.frame the status was last set from
        self._checked: ModelOutputs | None = None  # the outputs already checked for NaN
        self._ended = False

    @property
    def status(self) -> TrackingStatus:
        return esper.component_for_entity(self.entity, TrackingStatus)

    def check_outputs(self) -> None:
        """Raise NonFiniteOutputError when the newest model outputs hold NaN or inf."""
        outputs = esper.try_component(self.entity, ModelOutputs)
        if outputs is None or outputs is self._checked:
            return
        self._checked = outputs
        check_finite_outputs(outputs)

    def check_end(self) -> None:
        """After capture: a source that ended cleanly says so once; a live one (a camera) that
        ends was unplugged or hung, so its pose is lost too."""
        end = esper.try_component(self.entity, EndOfStream)
        if end is None or self._ended:
            return
        self._ended = True
        reason = f"{self.source.description} ended after {end.frames} frames"
        if self.source.live:
            self._give_up("capture", reason, "ended", end.frames, warn_key=("capture", "ended"))
            return
        status = self.status
        status.state, status.reason, status.stage = "ended", reason, ""
        log.info("pose tracking: %s", reason)

    def fail(self, stage: str, error: Exception) -> None:
        """A stage raised: give this frame up, say why (a warning the first time)."""
        log.debug("pose tracking: the %s stage failed", stage, exc_info=error)
        if stage == "capture":
            self._ended = True
            end = esper.try_component(self.entity, EndOfStream)
            index = end.frames if end is not None else self._next_index()
            self._give_up(stage, _one_line(error), "ended", index, (stage, type(error).__name__))
            return
        frame = esper.try_component(self.entity, CameraFrame)
        index = frame.index if frame is not None else 0
        self._give_up(stage, _one_line(error), "lost", index, (stage, type(error).__name__))

    def settle(self) -> None:
        """After decode: the status of a newly decoded frame; non-finite poses never pass."""
        result = esper.try_component(self.entity, PoseResult)
        if result is None or result.frame == self._settled:
            return
        if not finite_poses(result):
            error = NonFiniteOutputError("decoding gave NaN or inf keypoints")
            self._give_up("decode", str(error), "lost", result.frame, ("decode", "non-finite"))
            return
        self._settled = result.frame
        status = self.status
        if status.state == "ended":
            return
        if status.state == "lost":
            log.info("pose tracking recovered on frame %d", result.frame)
        status.state = "tracking" if result.poses else "no_person"
        status.reason, status.stage, status.frame = "", "", result.frame

    def _give_up(
        self, stage: str, reason: str, state: str, index: int, warn_key: tuple[str, str]
    ) -> None:
        # the frame's result: nobody (a new PoseResult, so filters and characters see it)
        frame = esper.try_component(self.entity, CameraFrame)
        t, t_capture = (frame.time, frame.t_capture) if frame is not None else (0.0, 0.0)
        esper.add_component(self.entity, PoseResult(index, t, self.keypoint_names, [], t_capture))
        self._settled = index
        # nothing of this frame is retried: later stages would decode it again otherwise
        for stale in (RegionOfInterest, ModelInput, ModelOutputs):
            esper.try_remove_component(self.entity, stale)
        # the tracking ROI came from landmarks we no longer trust: detect afresh
        esper.component_for_entity(self.entity, TrackingState).next_roi = None
        status = self.status
        new_episode = (status.state, status.stage) != (state, stage)
        if status.frame != index or new_episode:
            status.lost_frames += 1
        status.state, status.reason, status.stage, status.frame = state, reason, stage, index
        if new_episode:
            # one warning per kind of failure; a failure that comes back is logged at debug
            level = logging.DEBUG if warn_key in self._warned else logging.WARNING
            self._warned.add(warn_key)
            log.log(level, "pose tracking %s at the %s stage (frame %d): %s; the game goes on "
                    "without a pose", state, stage, index, reason)  # fmt: skip

    def _next_index(self) -> int:
        result = esper.try_component(self.entity, PoseResult)
        return 0 if result is None else result.frame + 1


def check_finite_outputs(outputs: ModelOutputs) -> None:
    """Raise NonFiniteOutputError when model outputs hold NaN or inf."""
    bad = [
        name
        for name, array in outputs.arrays.items()
        if np.asarray(array).dtype.kind == "f" and not np.isfinite(array).all()
    ]
    if bad:
        raise NonFiniteOutputError(f"the model returned NaN or inf in {', '.join(bad)}")


def finite_poses(result: PoseResult) -> bool:
    """True when every pose of `result` is finite (keypoints, score, world)."""
    return all(_finite(pose) for pose in result.poses)


def _finite(pose: PoseEstimate) -> bool:
    world_ok = pose.world is None or bool(np.isfinite(pose.world).all())
    return bool(np.isfinite(pose.keypoints).all()) and np.isfinite(pose.score) and world_ok


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
