"""The demo's settings: what the command line and the scene file decide before the game starts."""

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from posetrack.components.scene import Character, Hud
from posetrack.game.session import TrackSettings
from posetrack.game.targets import Rules

WINDOW = (1280, 720)  # 16:9 at 720p: the screenshots' size, and readable on any screen
HEADLESS_FPS = 30.0  # the headless clock's fixed rate: one clip frame (30 fps) per game frame
# The sprite's place when no scene says: hips at 82% of the way to the right edge and 66% of
# the way down (render2d-style: -1..1 across and up the window), 0.2 screen units per metre
# (a 1.77 m figure ~0.36 of the window's half-height: a corner, not a rival).
DEFAULT_SPRITE = Character(kind="sprite", position=(0.82, 0.0, -0.66), scale=0.2)


def _default_sprite() -> Character:
    from dataclasses import replace

    return replace(DEFAULT_SPRITE)


@dataclass
class GameSettings:
    """Everything the game is started with."""

    source: str | None = None  # None: the webcam if one opens, else the sample clip
    track: TrackSettings = field(default_factory=TrackSettings)
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posetrack-demo",
        description="The posetrack demo game: move in front of the camera, touch the targets.",
    )
    parser.add_argument(
        "--source",
        default=None,
        help="webcam:N, a video, an image, a folder, or sample:NAME (default: webcam:0 if a "
        "camera opens, else the sample clip, looping)",
    )
    parser.add_argument("--scene", type=Path, default=None,
                        help="scene file (default: the packaged demo scene)")  # fmt: skip
    parser.add_argument("--model", default=None, help="pose model (default: the scene's)")
    parser.add_argument("--backend", choices=("auto", "gpu", "cpu"), default=None,
                        help="crop + decode backend (default: auto)")  # fmt: skip
    parser.add_argument("--no-smooth", action="store_true", help="start with smoothing off")
    parser.add_argument("--no-mirror", action="store_true", help="start with mirroring off")
    parser.add_argument("--round", type=float, default=None, help="round length, seconds")
    parser.add_argument("--offscreen", action="store_true",
                        help="no window: render offscreen (EGL), fixed 30 fps clock")  # fmt: skip
    parser.add_argument("--frames", type=int, default=0, help="stop after N frames")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="save the last frame to this PNG")  # fmt: skip
    parser.add_argument("--size", default=None, help="window size WxH (default 1280x720)")
    parser.add_argument("--seed", type=int, default=0, help="target placement seed")
    parser.add_argument(
        "--press",
        default="",
        help="keys to press on the first frame, comma-separated (e.g. c,e: sprite focus and "
        "editor panel; for screenshots and tests)",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> GameSettings:
    """The scene's settings (if a scene file is given or packaged), then the options on top."""
    from posetrack.game.scene_link import default_scene, settings_from_scene

    scene = args.scene or default_scene()
    settings = settings_from_scene(scene) if scene is not None else GameSettings()
    settings.scene = scene
    if args.source is not None:
        settings.source = args.source
        settings.source_locked = True
    if args.model is not None:
        settings.track.model = args.model
    if args.backend is not None:
        settings.track.backend = args.backend
    if args.no_smooth:
        settings.track.smoothing = False
    if args.no_mirror:
        settings.mirror = settings.sprite.mirror = False
    if args.round is not None:
        settings.rules.round_s = args.round
    if args.size:
        w, h = (int(v) for v in args.size.lower().split("x"))
        settings.window = (w, h)
    settings.offscreen = args.offscreen
    settings.frames = args.frames
    settings.screenshot = args.screenshot
    settings.seed = args.seed
    settings.press = tuple(k.strip() for k in args.press.split(",") if k.strip())
    return settings
