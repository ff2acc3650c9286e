"""Components a scene file can declare (posetrack.scene): plain dataclasses, data only.

Each field carries its documentation and limits (components/fields.py `setting`), which the
scene package turns into the JSON Schema and enforces when it validates a file. The `tracker`
table is the tracker's own settings type, TrackingConfig (components/tracker.py), less its
source (a scene's frames come from its `source` component). Filter mirrors
character.FilterConfig, GameRules mirrors the demo's round rules.
"""

from dataclasses import dataclass
from typing import Literal

from posetrack.components.fields import setting
from posetrack.components.tracker import TrackingConfig

# "mannequin" (the generated skinned mannequin), "sprite" (the 2D cut-out), or a model file
CharacterKind = Literal["mannequin", "sprite"] | str
MODEL_FILE_PATTERN = r"\.(gltf|glb|bam|egg)(\.pz)?$"  # what Panda3D's loader reads (+ gltf)
PRESET_FILE_PATTERN = r"\.toml$"  # a rig preset of one's own (characters.presets.load_preset)


@dataclass
class Source:
    """Where the frames come from; the entity holding it is the camera."""

    uri: str = setting(
        "webcam:0",
        "webcam:N, a video, an image, a folder of images (relative to the scene file), or "
        "sample:NAME (a bundled sample clip, e.g. sample:sports2d-demo.mp4)",
        asset="source",
    )
    fallback: str | None = setting(
        None,
        "used when `uri` cannot be opened (no webcam): same forms as uri",
        asset="source",
    )
    loop: bool = setting(False, "start a video again at its end instead of ending the stream")


@dataclass
class Filter:
    """How the tracker's pose is smoothed (character.FilterConfig); on the tracker entity.

    The defaults are MediaPipe's pose-landmark filter values (see FilterConfig for why).
    """

    mode: Literal["one_euro", "none"] = setting(
        "one_euro", "one_euro, or none to pass poses through"
    )
    min_cutoff: float = setting(
        0.05, "image keypoints: cut-off at rest, Hz (lower: steadier)", gt=0
    )
    beta: float = setting(80.0, "image keypoints: speed coefficient (higher: less lag)", ge=0)
    derivate_cutoff: float = setting(
        1.0, "image keypoints: cut-off of the speed estimate, Hz", gt=0
    )
    world_min_cutoff: float = setting(0.1, "world landmarks: cut-off at rest, Hz", gt=0)
    world_beta: float = setting(40.0, "world landmarks: speed coefficient", ge=0)
    world_derivate_cutoff: float = setting(1.0, "world landmarks: speed cut-off, Hz", gt=0)
    visibility_alpha: float = setting(
        0.1, "visibility low-pass weight of the new value", gt=0, le=1
    )


@dataclass
class Character:
    """A character the tracked pose drives (3D model or 2D sprite)."""

    kind: CharacterKind = setting(
        "mannequin",
        "mannequin, sprite, or a model file (.gltf/.glb/.bam/.egg, relative to the scene file)",
        pattern=MODEL_FILE_PATTERN,
        asset="character",
    )
    preset: str | None = setting(
        None,
        "rig preset naming its joints (a built-in one or a preset .toml file); unset: detected",
        choices="rig_presets",
        pattern=PRESET_FILE_PATTERN,
        asset="preset",
    )
    tracker: str | None = setting(
        None, "name of the entity whose tracker drives it; unset: the first"
    )
    position: tuple[float, float, float] = setting((0.0, 0.0, 0.0), "where it stands: x, y, z")
    heading: float = setting(0.0, "turn about the vertical axis, degrees")
    scale: float = setting(1.0, "size in the world (1: as modelled)", gt=0)
    mirror: bool = setting(True, "move like the player's mirror image (webcam default)")
    root_motion: bool = setting(False, "move the root with the person's hip centre in the image")
    root_motion_scale: float = setting(1.0, "extra gain on root motion", ge=0)
    response_s: float = setting(0.05, "animate stage time constant, seconds (0: snap)", ge=0)
    min_cutoff: float | None = setting(None, "override of the filter's min_cutoff, Hz", gt=0)
    beta: float | None = setting(None, "override of the filter's beta", ge=0)


@dataclass
class Hud:
    """What the heads-up display shows."""

    fps: bool = setting(True, "frames per second")
    stages: bool = setting(True, "per-stage times")
    latency: bool = setting(True, "end-to-end latency, capture to joints applied")
    confidence: bool = setting(True, "tracking confidence")
    camera_pip: bool = setting(True, "picture-in-picture of the camera with the skeleton")
    pip_size: float = setting(0.3, "picture-in-picture width, fraction of the window", gt=0, le=1)


@dataclass
class GameRules:
    """How a round of the demo game plays (touch targets with hands or feet)."""

    round_s: float = setting(60.0, "length of a round, seconds", gt=0)
    radius: float = setting(0.15, "touch radius of a target, metres in character space", gt=0)
    max_targets: int = setting(3, "targets on screen at once", ge=1)
    spawn_every_s: float = setting(1.2, "a new target this often while below max_targets", gt=0)
    lifetime_s: float = setting(5.0, "an untouched target disappears after this long", gt=0)
    foot_share: float = setting(0.3, "fraction of targets meant for the feet", ge=0, le=1)
    points: int = setting(10, "points per touch", ge=0)
    quick_bonus: int = setting(5, "extra points for a touch in the first third of its life", ge=0)
    frontal_only: bool = setting(True, "touch distance in the frontal plane only (depth is noisy)")
    players: int = setting(
        1,
        "people playing at once: 2 puts two characters side by side, each driven by its own "
        "person (left in the camera image: player 1) with its own score; needs a multi-person "
        "model (movenet-multipose is picked when the tracker's finds one person)",
        ge=1,
        le=2,
    )


# Table name in a scene file -> component type. Order: the order of the schema and the docs.
COMPONENTS: dict[str, type] = {
    "source": Source,
    "tracker": TrackingConfig,
    "filter": Filter,
    "character": Character,
    "hud": Hud,
    "rules": GameRules,
}
