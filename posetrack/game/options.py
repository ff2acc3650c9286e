"""The demo's command line: `posetrack-demo [options]` -> GameSettings (the scene's, then the
options on top)."""

import argparse
from pathlib import Path

from posetrack.components.tracker import BACKENDS
from posetrack.game.scene_link import default_scene, settings_from_scene
from posetrack.game.settings import GameSettings
from posetrack.game.source import check_source
from posetrack.game.two_players import MAX_PLAYERS, fit_players


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
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="crop + decode backend (default: auto)")  # fmt: skip
    parser.add_argument("--no-smooth", action="store_true", help="start with smoothing off")
    parser.add_argument("--no-mirror", action="store_true", help="start with mirroring off")
    parser.add_argument("--round", type=float, default=None, help="round length, seconds")
    parser.add_argument("--offscreen", action="store_true",
                        help="no window: render offscreen (EGL), fixed 30 fps clock")  # fmt: skip
    parser.add_argument("--frames", type=_frames, default=0,
                        help="stop after N frames (0: run until quit)")  # fmt: skip
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="save the last frame to this PNG")  # fmt: skip
    parser.add_argument("--size", type=_window_size, default=None,
                        help="window size WxH (default 1280x720)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="target placement seed")
    parser.add_argument("--players", type=_players, default=None,
                        help="people playing at once: 1 or 2 (default: the scene's, 1); 2 "
                        "tracks with movenet-multipose unless --model says otherwise")  # fmt: skip
    parser.add_argument(
        "--press",
        default="",
        help="keys to press on the first frame, comma-separated (e.g. c,e: sprite focus and "
        "editor panel; for screenshots and tests)",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> GameSettings:
    """The scene's settings (if a scene file is given or packaged), then the options on top."""

    scene = args.scene or default_scene()
    settings = settings_from_scene(scene) if scene is not None else GameSettings()
    settings.scene = scene
    if args.source is not None:
        check_source(args.source)
        settings.source = args.source
        settings.source_locked = True
    if args.model is not None:
        settings.track.model = args.model
    if args.players is not None:
        settings.rules.players = args.players
    settings.players_notice = fit_players(settings, model_chosen=args.model is not None)
    if args.backend is not None:
        settings.track.preprocess = settings.track.decode = args.backend
    if args.no_smooth:
        settings.track.smoothing = False
    if args.no_mirror:
        settings.mirror = settings.sprite.mirror = False
    if args.round is not None:
        settings.rules.round_s = args.round
    if args.size:
        settings.window = args.size
    settings.offscreen = args.offscreen
    settings.frames = args.frames
    settings.screenshot = args.screenshot
    settings.seed = args.seed
    settings.press = tuple(k.strip() for k in args.press.split(",") if k.strip())
    return settings


MIN_WINDOW_SIDE = 16  # smaller windows hold no readable HUD; 0 would be no window at all


def _window_size(text: str) -> tuple[int, int]:
    """`WxH` -> (W, H), both whole numbers of at least MIN_WINDOW_SIDE pixels."""
    parts = text.lower().split("x")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        w, h = (int(p) for p in parts)
        if min(w, h) >= MIN_WINDOW_SIDE:
            return w, h
    raise argparse.ArgumentTypeError(
        f"expected WIDTHxHEIGHT in pixels, each at least {MIN_WINDOW_SIDE} (e.g. 1280x720), "
        f"got {text!r}"
    )


def _players(text: str) -> int:
    """A player count: 1 .. MAX_PLAYERS."""
    if text.strip().isdigit() and 1 <= int(text) <= MAX_PLAYERS:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected 1 to {MAX_PLAYERS} players, got {text!r}")


def _frames(text: str) -> int:
    """A frame count: a whole number >= 0 (0: run until quit)."""
    if text.strip().isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
