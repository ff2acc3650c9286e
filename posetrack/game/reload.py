"""Hot reload of the demo's scene file: a save shows up in the running game within a second,
without restarting tracking; an invalid save shows its problems and keeps the last good scene."""

from typing import Any

from posetrack.game.cast import CharacterFeed, overrides
from posetrack.game.scene_link import apply_scene
from posetrack.game.settings import GameSettings
from posetrack.game.two_players import fit_players
from posetrack.scene import SceneWatcher

POLL_S = 0.25  # a save shows within a second; a stat() every 0.25 s costs ~2 us (measured)


class SceneReloader:
    """Polls the scene file from the game's frame; applies what can change live."""

    def __init__(self, game: Any) -> None:
        self.game = game
        self.watcher = SceneWatcher(game.settings.scene, self._changed, self._failed)
        self._next_poll = 0.0
        self.reloads = -1  # the first poll reads the file the game started from: not a reload

    def poll(self, now: float) -> None:
        if now >= self._next_poll:
            self._next_poll = now + POLL_S
            self.watcher.poll()

    def _changed(self, scene: Any) -> None:
        self.reloads += 1
        if self.reloads == 0:
            return
        game = self.game
        fresh = apply_scene(GameSettings(scene=game.settings.scene), scene)
        # the number of players is the started game's (a restart changes it); its model fits
        fresh.rules.players = game.players
        fit_players(fresh, model_chosen=False)
        old = game.settings.track
        notes = apply_live(game, fresh)
        game.rules.rules = fresh.rules
        # the model or backend changed, or the source: rebuild the tracker; else tracking goes
        # on untouched (a loop change is set on the running clip)
        paths = ("model", "preprocess", "decode")
        rebuild = any(getattr(fresh.track, name) != getattr(old, name) for name in paths)
        for name in paths:
            setattr(old, name, getattr(fresh.track, name))
        rebuild |= _apply_source(game, fresh)
        if rebuild:
            game.rebuild()
        game.session.config.smoothing = fresh.track.smoothing
        game.session.set_filter(fresh.filter)
        game.hud.notice = "; ".join([f"reloaded {game.settings.scene.name}", *notes])

    def _failed(self, problems: list) -> None:
        first = str(problems[0]) if problems else "unreadable"
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        self.game.hud.notice = f"scene not reloaded: {first}{more}; keeping the last good one"


def _apply_source(game: Any, fresh: GameSettings) -> bool:
    """Source.uri and Source.loop from a reloaded scene; True when the tracker must be rebuilt
    (a new source, or a clip that had ended and now loops). `--source` on the command line
    keeps its source; a loop change alone is set on the running clip."""
    settings = game.settings
    rebuild = False
    if not settings.source_locked and fresh.source != settings.source:
        settings.source = game._source_spec = fresh.source
        rebuild = True
    if fresh.loop != settings.loop:
        settings.loop = fresh.loop
        clip = game.session.source
        if hasattr(clip, "loop"):
            clip.loop = fresh.loop
        rebuild |= fresh.loop and game.clip_ended
    return rebuild


def apply_live(game: Any, fresh: GameSettings) -> list[str]:
    """What a scene says that the running game takes without touching the tracker: HUD parts
    and PiP size, the characters (a new 3D model, position, heading, scale, mirror, response,
    root motion; the sprite's place and size), per-character smoothing. Called at start (with
    the game's own settings) and on each reload. Returns notices for the HUD (a model that
    could not be loaded)."""

    settings, notes = game.settings, []
    settings.hud = fresh.hud
    game.hud.flags = fresh.hud
    # pip_size: a fraction of the window's width; aspect2d spans 2 x aspect ratio across
    game.pip.set_width(fresh.hud.pip_size * 2.0 * game.base.get_aspect_ratio())
    game.pip.show(fresh.hud.camera_pip)
    if (fresh.player.kind, fresh.player.preset) != (settings.player.kind, settings.player.preset):
        why = game.set_player(fresh.player)
        if why:
            notes.append(why)
    settings.player, settings.sprite = fresh.player, fresh.sprite
    settings.character_scale, settings.mirror = fresh.character_scale, fresh.mirror
    # the player's mirror is settings.mirror (the scene's, or --no-mirror on top of it)
    for binding, config, character, mirror in zip(
        game.bindings, (game.retarget_config, game.sprite_config), (fresh.player, fresh.sprite),
        (fresh.mirror, fresh.sprite.mirror), strict=True,
    ):  # fmt: skip
        config.mirror = mirror
        config.root_motion = character.root_motion
        config.root_motion_scale = character.root_motion_scale
        binding.response_s = character.response_s
    game.place_characters()
    for i, character in enumerate((fresh.player, fresh.sprite)):
        changes, feed = overrides(character), game.feeds[i]
        if (
            feed is not None
            and feed.changes == changes
            and feed.player == (1 if game.players > 1 else None)
        ):
            continue  # the same overrides: keep its filter state
        if feed is not None:
            feed.close()
        # several players: player 1's characters follow player 1's pose, never the first one
        player = 1 if game.players > 1 else None
        game.feeds[i] = CharacterFeed(changes, player) if changes or player else None
    game.bind_trackers()
    return notes
