"""The demo's link to scene files (posetrack.scene): where its settings come from and where the
editor saves them."""

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from posetrack.components import scene as parts
from posetrack.components.character import FilterConfig
from posetrack.game.settings import GameSettings
from posetrack.game.targets import Rules
from posetrack.scene import load_scene, update_scene_file

DEMO_SCENE = Path(__file__).resolve().parent.parent / "assets" / "scenes" / "demo.toml"


def default_scene() -> Path:
    """The packaged demo scene."""
    return DEMO_SCENE


def settings_from_scene(path: Path) -> GameSettings:
    """GameSettings from a scene file (raises SceneError, every problem listed, on a bad one)."""

    return apply_scene(GameSettings(), load_scene(path))


def apply_scene(settings: GameSettings, scene: Any) -> GameSettings:
    """Copy what the scene's components (posetrack.components.scene) say onto `settings`."""

    source = _first(scene, parts.Source)
    if source is not None:
        # a camera with a fallback is the game's own default: the webcam, else the clip
        camera = source.uri.strip().lower().startswith("webcam")
        settings.source = None if camera and source.fallback else _resolve_source(scene, source.uri)
        settings.loop = source.loop
    tracker = _first(scene, parts.TrackingConfig)
    if tracker is not None:
        # the demo runs preprocess and decode on one path (key B switches both)
        settings.track = replace(tracker, source=settings.track.source, decode=tracker.preprocess)
    smoothing = _first(scene, parts.Filter)
    if smoothing is not None:
        settings.filter = FilterConfig(**asdict(smoothing))
    # the 3D character: the first character that is not the sprite (mannequin or a model file)
    character = _first(scene, parts.Character, lambda c: c.kind != "sprite")
    if character is not None:
        kind = character.kind
        if kind != "mannequin":  # a model file: relative to the scene file
            kind = str(_resolve(scene, kind))
        preset = character.preset
        if preset is not None and preset.endswith(".toml"):
            preset = str(_resolve(scene, preset))
        settings.player = replace(character, kind=kind, preset=preset)
        settings.character_scale = character.scale
        settings.mirror = character.mirror
    sprite = _first(scene, parts.Character, lambda c: c.kind == "sprite")
    if sprite is not None:
        settings.sprite = replace(sprite)
    hud = _first(scene, parts.Hud)
    if hud is not None:
        settings.hud = replace(hud)
    rules = _first(scene, parts.GameRules)
    if rules is not None:
        settings.rules = Rules(**asdict(rules))
    return settings


def _resolve(scene: Any, relative: str) -> Path:
    """A path written in the scene, relative to its file (the scene's own rule when it has one)."""
    resolve = getattr(scene, "resolve", None)
    return resolve(relative) if resolve is not None else Path(relative)


def _resolve_source(scene: Any, uri: str) -> str:
    """A source URI with a relative file path made relative to the scene file."""
    forms = ("webcam", "sample:")
    if uri.strip().lower().startswith(forms) or Path(uri).is_absolute():
        return uri
    path = _resolve(scene, uri)
    return str(path) if path.exists() else uri


def _first(scene: Any, kind: type, accept: Any = None) -> Any:
    """The first component of type `kind` among the scene's entities (a seam over the scene
    package's Scene object: entities with a `components` mapping or list)."""
    for entity in getattr(scene, "entities", ()):
        entity = getattr(entity, "components", entity)
        values = entity.values() if isinstance(entity, dict) else entity
        for component in values if isinstance(values, list | tuple) else list(values):
            if isinstance(component, kind) and (accept is None or accept(component)):
                return component
    return None


def save_fields(path: Path, values: dict[str, Any]) -> str:
    """Write `values` ({field path: value}) into the scene file, keeping its comments; returns
    a one-line result for the HUD."""

    update_scene_file(path, values)
    return f"saved {len(values)} fields to {path.name}"
