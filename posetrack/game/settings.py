"""The demo's settings: what the command line (options.py) and the scene file (scene_link.py)
decide before the game starts."""

from dataclasses import dataclass, field, replace
from pathlib import Path

from posetrack.components.character import FilterConfig
from posetrack.components.scene import Character, Hud
from posetrack.components.tracker import TrackingConfig
from posetrack.game.targets import Rules

WINDOW = (1280, 720)  # 16:9 at 720p: the screenshots' size, and readable on any screen
HEADLESS_FPS = 30.0  # the headless clock's fixed rate: one clip frame (30 fps) per game frame
# The sprite's place when no scene says: hips at 82% of the way to the right edge and 66% of
# the way down (render2d-style: -1..1 across and up the window), 0.2 screen units per metre
# (a 1.77 m figure ~0.36 of the window's half-height: a corner, not a rival).
DEFAULT_SPRITE = Character(kind="sprite", position=(0.82, 0.0, -0.66), scale=0.2)


def _default_sprite() -> Character:

    return replace(DEFAULT_SPRITE)


@dataclass
class GameSettings:
    """Everything the game is started with."""

    source: str | None = None  # None: the webcam if one opens, else the sample clip
    track: TrackingConfig = field(default_factory=TrackingConfig)  # its source: `source` above
    filter: FilterConfig | None = None  # the One Euro values (a scene's filter); None: defaults
    rules: Rules = field(default_factory=Rules)
    mirror: bool = True  # the character moves like the player's mirror image
    character_scale: float = 1.0  # the mannequin's size in the world
    # the 3D character entity (kind: mannequin or a model file, made absolute; position,
    # heading, smoothing overrides) and the sprite entity (position/scale: screen placement)
    player: Character = field(default_factory=Character)
    sprite: Character = field(default_factory=_default_sprite)
    hud: Hud = field(default_factory=Hud)  # which HUD parts show
    loop: bool = True  # a clip starts again at its end (False: it ends, the game goes on)
    source_locked: bool = False  # --source given: a scene reload does not change the source
    scene: Path | None = None  # the scene file the game was loaded from (the editor saves there)
    offscreen: bool = False
    frames: int = 0  # headless: stop after this many frames (0: run until quit)
    screenshot: Path | None = None
    window: tuple[int, int] = WINDOW
    seed: int = 0  # where targets appear: the same seed gives the same round
    press: tuple[str, ...] = ()  # key events sent on the first frame (scripted runs)
    players_notice: str = ""  # why the model was changed for several players ("": it wasn't)
