"""`tracking.record(path)` / `tracking.stop_recording()` on the tracker (PoseTrackingSystem,
what posetrack.init returns).

    tracking = posetrack.init(base, source="webcam:0")
    tracking.drive(my_actor)
    tracking.record("take1.bvh")        # or .glb / .gltf
    ...
    tracking.stop_recording()           # writes the file; close() does too

The first driven character is recorded: after each process() that applied a new pose, its
joints are buffered (a few microseconds per joint: the host's frame pays no file work); the
file is written at stop_recording() or close(), under a temporary name beside the target and
moved into place, so an interrupted game leaves a whole file or none.
"""

import logging
from pathlib import Path
from typing import Any

import esper

from posetrack.components.character import CharacterBinding
from posetrack.errors import PosetrackError
from posetrack.motion.recorder import MotionRecorder, check_motion_suffix

log = logging.getLogger("posetrack")

_FALLBACK_FPS = 30.0  # a camera that reports no frame rate: the usual webcam rate


class Recording:
    """Mixed into PoseTrackingSystem: reads its first character entity (CharacterBinding) and
    writes a motion file. The tracker calls `_record_frame()` at the end of each process()
    and `_end_recording()` first thing in close()."""

    _recording: tuple[MotionRecorder, Any, Any] | None = None  # recorder, actor, StagedFile
    _recorded_frame: int = -1

    def record(self, path: str | Path, model_file: str | Path | None = None) -> None:
        """Start recording the first driven character to `path` (.bvh, .glb or .gltf).

        `model_file`: the character's own .gltf/.glb file, whose mesh a glTF recording then
        carries (default: a box figure of its rig). Raises PosetrackError for another suffix,
        a folder that cannot be written, no driven character, or a recording already running.
        """
        from posetrack.cli.outputs import StagedFile

        check_motion_suffix(path)
        if self._recording is not None:
            raise PosetrackError(
                f"already recording to {self._recording[2].target}: stop_recording() first"
            )
        entities = [
            e for e in self._characters if self._in_world(lambda e=e: esper.entity_exists(e))
        ]
        if not entities:
            raise PosetrackError("nothing to record: drive(actor) a character first")
        binding = self._in_world(lambda: esper.component_for_entity(entities[0], CharacterBinding))
        if binding.actor is None:
            raise PosetrackError("the first driven character is a sprite: record needs an Actor")
        staged = StagedFile(path)
        fps = self.source.fps if self.source.fps > 0 else _FALLBACK_FPS
        self._recording = (MotionRecorder(binding.actor, fps, model_file), binding.actor, staged)
        self._recorded_frame = -1

    def stop_recording(self) -> Path | None:
        """Write the recording and stop; returns the file written (None when not recording).
        Raises PosetrackError when the file cannot be written (nothing is left behind then)."""
        if self._recording is None:
            return None
        recorder, _, staged = self._recording
        self._recording = None
        try:
            recorder.write(staged.temp, target=staged.target)
        except BaseException as e:
            staged.discard()
            if isinstance(e, OSError):
                raise PosetrackError(f"cannot write {staged.target}: {e.strerror}") from e
            raise
        staged.commit()
        return staged.target

    def _record_frame(self) -> None:
        if self._recording is None:
            return
        result = self.result
        if result is None or result.frame == self._recorded_frame:
            return  # no new pose this host frame
        recorder, actor, staged = self._recording
        self._recorded_frame = result.frame
        try:
            actor.update(force=True)  # the joints as animate just set them, not as last drawn
            recorder.capture(result.time)
        except Exception as e:  # noqa: BLE001 -- the host's frame goes on (actor removed...)
            log.warning("posetrack: recording to %s stopped: %s", staged.target, e)
            self._recording = None

    def _end_recording(self) -> None:
        try:
            self.stop_recording()
        except Exception as e:  # noqa: BLE001 -- closing must go on: the host never crashes
            log.warning("posetrack: the recording was not written: %s", e)
