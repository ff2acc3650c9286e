"""What the demo reports: the HUD's data each frame, and headless, a tick line once a game
second and the final summary (JSON lines the tests read)."""

import statistics
from pathlib import Path
from typing import Any

from posetrack.game.hud import HudData
from posetrack.game.probe import Report
from posetrack.game.two_players import player_summary, screen_scores, tracked
from posetrack.stages.handover import percentile


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


def hud_data(game: Any, result: object) -> HudData:
    """What the HUD shows this frame: rates, stage times, scores, and why tracking is lost."""
    ticks = game.ticks
    fps = (len(ticks) - 1) / (ticks[-1] - ticks[0]) if len(ticks) > 1 and ticks[-1] > ticks[0] \
        else 0.0  # fmt: skip
    times = game.session.times
    health = game.session.health
    state = game.rules.state
    lost = ""
    if health.state == "ended" and not getattr(game.session.source, "loop", True):
        # a clip played once (Source.loop = false): it is over, the round goes on
        game.clip_ended = True
        lost = "the clip has ended (the scene's source does not loop)"
    elif health.state in ("lost", "ended"):
        lost = f"tracking lost: {health.reason or health.state}"
    return HudData(
        fps=fps,
        stages_ms={**(times.ms if times is not None else {}), **game.extra_ms},
        latency_ms=statistics.median(game.latencies) if game.latencies else None,
        latency_p95_ms=percentile(game.latencies, 0.95) if game.latencies else None,
        dropped=game.session.dropped_frames,
        confidence=result.poses[0].score if result is not None and result.poses else None,
        scores=screen_scores(game),
        model=game.session.model_label,
        backends=game.session.backends,
        smoothing=game.session.config.smoothing,
        mirror=game.retarget_config.mirror,
        source=game.session.source_description,
        score=state.score, touches=state.touches + sum(o.touches for o in game.others),
        misses=state.misses + sum(o.misses for o in game.others),
        time_left=game.rules.time_left(game.now), round_over=state.over, lost=lost,
    )  # fmt: skip
