"""What `posetrack track` adds after decoding: the filter stage and a driven character.

`PoseOutputs` runs FilterSystem on the tracker entity (One Euro, or a pass-through with
--no-smooth) and, with --character NAME|FILE, the real retarget and animate stages on a
headless Actor (the mannequin, or a user's .gltf/.glb/.bam/.egg model through a rig preset:
posetrack.characters.loading; no window: Panda3D updates the joints without rendering), then
writes each frame with the first pose's `"character": {keypoint: [x, y, z]}`: the world
position of the joint that stands for each tracked keypoint, read back from the Actor after
controlJoint, hip-centred in the axes of the pose's `world` landmarks (x right, y down,
z away, metres of the character).
"""

from pathlib import Path
from typing import Any

import esper
import numpy as np

from posetrack.characters.loading import BUILTIN_CHARACTERS, load_character
from posetrack.cli.stream import PoseStreamWriter
from posetrack.components import PoseResult
from posetrack.components.character import CharacterBinding, FilterConfig, FilteredPose
from posetrack.errors import PosetrackError
from posetrack.motion.recorder import MotionRecorder
from posetrack.retarget import RetargetConfig
from posetrack.retarget.axes import character_to_world
from posetrack.retarget.limbs import KEYPOINT_JOINTS, mirror_name
from posetrack.systems.animate import AnimateSystem
from posetrack.systems.filter import FilterSystem, describe, filtered_result
from posetrack.systems.retarget import RetargetSystem

_DIGITS = 4  # 0.1 mm: far below the landmarks' own noise


class CharacterPoseWriter(PoseStreamWriter):
    """The pose stream, with `"character"` added to the first pose of a frame when given."""

    _character: dict[str, list[float]] | None = None

    def frame(self, result: PoseResult, character: dict[str, Any] | None = None) -> None:
        self._character = character
        try:
            super().frame(result)
        finally:
            self._character = None

    def _line(self, obj: dict[str, Any]) -> None:
        if obj.get("type") == "frame" and self._character is not None and obj["poses"]:
            obj["poses"][0]["character"] = self._character
        super()._line(obj)


class DrivenCharacter:
    """A headless character driven by the retarget and animate stages (snapping to targets:
    a stream line is that frame's pose, there are no display frames in between)."""

    def __init__(
        self,
        name: str,
        tracker: int,
        mirror: bool,
        rig: str | None = None,
        base_dir: Path | None = None,
        bone_depth: bool = True,
    ) -> None:

        self.mirror = mirror
        self.bone_depth = bone_depth
        self.actor, self.skeleton = load_character(name, rig, base_dir)
        self.info: dict[str, Any] = {"name": name, "mirror": mirror}
        if name not in BUILTIN_CHARACTERS:  # a user's file: which rig preset drives it
            self.info = {"name": self.actor.get_name(), "file": name,
                         "preset": self.skeleton.preset, "mirror": mirror}  # fmt: skip
        binding = CharacterBinding(
            tracker,
            RetargetConfig(mirror=mirror, bone_depth=bone_depth),
            self.actor,
            self.skeleton,
            response_s=0.0,
        )
        self.entity = esper.create_entity(binding)
        self._stages = [RetargetSystem(), AnimateSystem(clock=lambda: 0.0)]
        self._exposed = {
            bone: self.actor.exposeJoint(None, "modelRoot", self.skeleton.joint_of[bone])
            for bone in set(KEYPOINT_JOINTS.values())
        }

    def process(self) -> dict[str, list[float]]:
        """Drive the actor to the newest filtered pose; its joints as tracked keypoints."""
        for stage in self._stages:
            stage.process()
        self.actor.update(force=True)  # apply the controlJoint transforms to the joints now
        pos = {bone: np.array(node.get_pos(self.actor)) for bone, node in self._exposed.items()}
        hip = 0.5 * (pos["leftUpperLeg"] + pos["rightUpperLeg"])
        names = list(KEYPOINT_JOINTS)
        world = character_to_world(np.array([pos[KEYPOINT_JOINTS[n]] - hip for n in names]),
                                   self.mirror)  # fmt: skip
        return {
            (mirror_name(n) if self.mirror else n): [round(float(v), _DIGITS) for v in p]
            for n, p in zip(names, world, strict=True)
        }

    def close(self) -> None:
        if esper.entity_exists(self.entity):
            esper.delete_entity(self.entity, immediate=True)
        self.actor.cleanup()


class PoseOutputs:
    """The stages after decode for `posetrack track`: filter, then an optional character."""

    def __init__(
        self,
        tracker: int,
        smooth: bool,
        character: str | None = None,
        mirror: bool = True,
        rig: str | None = None,
        bone_depth: bool = True,
    ) -> None:
        """`character`: "mannequin" or a model file; `rig`: a rig preset name (None: detect);
        `bone_depth`: the character's limbs from 2D + bone lengths (retarget/depth.py)."""
        self.tracker = tracker
        self.filter_config = FilterConfig() if smooth else FilterConfig(mode="none")
        self._filter = FilterSystem(self.filter_config)
        self.character = (
            None
            if character is None
            else DrivenCharacter(character, tracker, mirror, rig, bone_depth=bone_depth)
        )
        self.recorder: MotionRecorder | None = None  # --bvh / --gltf: start_recording()

    def start_recording(self, fps: float) -> MotionRecorder:
        """Buffer the character's joints every frame from now on (for --bvh / --gltf)."""
        if self.character is None:
            raise PosetrackError("recording needs a driven character (--character)")
        name = self.character.info.get("file")
        self.recorder = MotionRecorder(self.character.actor, fps, model_file=name)
        return self.recorder

    @property
    def stage_name(self) -> str:
        """What `write` runs, as the summary's stage name."""
        return "filter" if self.character is None else "filter+retarget+animate"

    @property
    def header(self) -> dict[str, Any]:
        """Header fields: "smoothing" (what the filter ran) and "character" when one is driven."""
        fields: dict[str, Any] = {"smoothing": describe(self.filter_config)}
        if self.character is not None:
            fields["character"] = self.character.info
        return fields

    @property
    def corrections(self) -> dict[str, Any]:
        """What the character stages correct (the header's "corrections", with the tracker's):
        "bone_depth" when a character is driven."""
        if self.character is None:
            return {}
        return {"bone_depth": self.character.bone_depth}

    def write(self, writer: CharacterPoseWriter, result: PoseResult) -> PoseResult:
        """Filter (and drive the character with) the newest result, write it, return it."""
        self._filter.process()
        filtered = esper.component_for_entity(self.tracker, FilteredPose)
        out = filtered_result(result, filtered)
        character = None
        if self.character is not None:
            posed = self.character.process()  # also on lost frames: the gating counts them
            character = posed if filtered.pose is not None else None
            if self.recorder is not None:  # every frame, posed or held: the clip keeps time
                self.recorder.capture(result.time)
        writer.frame(out, character)
        return out

    def close(self) -> None:
        if self.character is not None:
            self.character.close()
