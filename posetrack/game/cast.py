"""The demo's characters as the scene declares them: the 3D character (the mannequin or a
user's model file), where it stands and faces, the sprite's place on screen, and each
character's own smoothing.

Per-character smoothing: the pipeline's filter stage runs once per tracker (FilteredPose on the
tracker entity). A character whose scene entity overrides `min_cutoff` or `beta` gets a
`CharacterFeed` instead: its own One Euro state (posetrack.systems.filter.PoseFilter) over the
tracker's raw PoseResult, written as a FilteredPose on an entity of its own that its
CharacterBinding reads. So the override smooths that character only; the others keep reading
the tracker's filter.
"""

from dataclasses import replace
from pathlib import Path

import esper

from posetrack.characters import build_mannequin, load_preset, skeleton_from_actor
from posetrack.characters.loading import load_character
from posetrack.components import PoseResult
from posetrack.components.character import FilterConfig, FilteredPose
from posetrack.components.scene import Character
from posetrack.systems.filter import PoseFilter


def load_player(character: Character) -> tuple[object, object]:
    """(Actor, Skeleton) for the scene's 3D character: the mannequin, or a model file through
    posetrack.characters.loading (`kind` already absolute: scene_link resolves it). Raises
    PosetrackError when the model cannot be used."""
    if character.kind == "mannequin":
        actor = build_mannequin()
        return actor, skeleton_from_actor(actor)

    preset: object = character.preset
    if isinstance(preset, str) and preset.endswith(".toml"):
        preset = load_preset(preset)
    path = Path(character.kind)
    return load_character(str(path), preset, base_dir=path.parent)


def place_player(node: object, character: Character, scale: float, focus_sprite: bool) -> None:
    """The 3D character's node: the scene's position (metres), heading (degrees) and `scale`;
    with the sprite in focus (key C) it steps 1 m right and shrinks to 70% to make room."""
    x, y, z = character.position
    node.set_pos(x + (1.0 if focus_sprite else 0.0), y, z)
    node.set_h(character.heading)
    node.set_scale(scale * (0.7 if focus_sprite else 1.0))


def place_sprite(sprite: object, character: Character, aspect: float, focus: bool) -> None:
    """The sprite's hips at the scene's (x, z) in render2d-style window coordinates (-1..1
    across and up; x is scaled by the aspect ratio onto aspect2d), `scale` screen units per
    metre. In focus (key C) it stands large on the left instead (2.4 x its scale)."""
    if focus:
        sprite.set_root(-0.55, -0.2, character.scale * 2.4)
        return
    x, _, z = character.position
    sprite.set_root(x * aspect, z, character.scale)


def overrides(character: Character) -> dict[str, float]:
    """The filter fields this character sets for itself (min_cutoff, beta), if any."""
    return {
        name: value
        for name in ("min_cutoff", "beta")
        if (value := getattr(character, name)) is not None
    }


class CharacterFeed:
    """One character's own smoothing of the tracker's pose (see the module docstring).

    Reads PoseResult on the tracker entity; writes FilteredPose on `entity` (its own).
    `process(base)` filters each new frame with `base` (the game's current FilterConfig, so
    the smoothing key and the editor still apply) plus this character's overrides.
    `player`: follow the pose the identity stage gave that player slot (several players;
    nobody when that player is not seen); None: the tracker's first pose.
    """

    def __init__(self, changes: dict[str, float], player: int | None = None) -> None:
        self.changes = changes
        self.player = player
        self.entity = esper.create_entity()
        self._filter: PoseFilter | None = None
        self._seen: tuple[int, int] | None = None  # (tracker entity, frame) last filtered

    def config(self, base: FilterConfig) -> FilterConfig:
        return base if base.mode == "none" else replace(base, **self.changes)

    def process(self, tracker: int, base: FilterConfig) -> None:
        result = esper.try_component(tracker, PoseResult)
        if result is None or self._seen == (tracker, result.frame):
            return
        config = self.config(base)
        if (
            self._filter is None
            or self._filter.config != config
            or (
                self._seen is not None
                and self._seen[0] != tracker  # a rebuilt tracker: start afresh
            )
        ):
            self._filter = PoseFilter(config)
        self._seen = (tracker, result.frame)
        index = next((i for i, p in enumerate(result.poses)
                      if self.player is None or p.player == self.player), None)  # fmt: skip
        if index is None:
            self._filter.reset()
            pose = None
        else:
            pose = self._filter(result.time, result.poses[index])
        esper.add_component(self.entity, FilteredPose(
            result.frame, result.time, result.keypoint_names, pose, index or 0, config.mode
        ))  # fmt: skip

    def close(self) -> None:
        if esper.entity_exists(self.entity):
            esper.delete_entity(self.entity, immediate=True)
