"""The headless report of the demo: a tick line once a game second and the final summary
(JSON lines the tests read)."""

from pathlib import Path
from typing import Any

from posetrack.game.probe import Report
from posetrack.game.two_players import player_summary, tracked


def record_frame(game: Any, result: object, latency: float | None) -> None:
    """Count the frame; headless, print a tick line once a game second."""
    pose = game.probe.summary()
    tracking = tracked(result, 1) if game.others else result is not None and bool(result.poses)
    game.report.frame(pose, tracking, latency)
    if game.settings.offscreen and game.report.frames % 30 == 0:  # a game second (30 fps clock)
        Report.line("tick", frame=game.report.frames, time=round(game.now - game.t0, 3),
                    score=game.rules.state.score, tracking=tracking,
                    state=game.session.health.state, **pose)  # fmt: skip


def print_summary(game: Any, screenshot: Path | None) -> None:
    """The final machine-readable line (the headless test reads it)."""
    state = game.rules.state
    texts = game.hud.texts
    Report.line("summary", **game.report.summary_fields(), score=state.score,
                touches=state.touches, misses=state.misses, model=game.session.config.model,
                backends=game.session.backends, state=game.session.health.state,
                pip_frames=game.pip.frames, hud=texts, tracker_builds=game.session.builds,
                scene_reloads=game.reloader.reloads if game.reloader else 0,
                character_scale=game.settings.character_scale,
                clip_ended=game.clip_ended, source=game.session.source_description,
                **_scene_fields(game), **_players(game),
                screenshot=None if screenshot is None else str(screenshot))  # fmt: skip


def _players(game: Any) -> dict:
    """Several players: each one's score, touches and how its character moved."""
    if not game.others:
        return {}
    return {"players": [player_summary(game), *(o.summary() for o in game.others)]}


def _scene_fields(game: Any) -> dict:
    """What the scene decided, read back from the nodes (the scene tests compare them)."""
    player, root = game.stage.player, game.sprite.root
    return {
        "hud_parts": game.hud.visible_parts(),
        "pip": {"visible": not game.pip.root.is_hidden(), "width": round(game.pip.width, 4)},
        "player": {"kind": game.player_kind, "joints": len(game.skeleton.joint_of),
                   "position": [round(v, 4) for v in player.get_pos()],
                   "heading": round(player.get_h(), 3), "scale": round(player.get_sx(), 4)},
        "sprite": {"position": [round(v, 4) for v in root.get_pos(game.base.aspect2d)],
                   "scale": round(root.get_sx(), 4), "mirror": game.sprite_config.mirror},
        "own_smoothing": {name: feed.changes for name, feed in zip(("player", "sprite"),
                          game.feeds, strict=True) if feed is not None},
    }  # fmt: skip
