"""The demo game itself: characters bound to the tracker, the rules, HUD, PiP, keys, editor.

Per frame (one task): tracking step -> retarget -> animate -> touches -> targets, PiP, HUD.

The demo builds its tracker with the public PoseTrackingSystem (session.py) and its characters
with the public stage processors (RetargetSystem, AnimateSystem, CharacterBinding), but not
through `posetrack.init()` + `drive()`, because the public API cannot yet do four things the
demo needs: drive the 2D sprite (drive() takes a skinned Actor), give one character its own
smoothing (cast.CharacterFeed), keep the characters bound while the tracker is rebuilt on a
model or backend switch (keys M and B), and play a clip in lockstep with the headless fixed
clock (one clip frame per game frame, so screenshots repeat exactly). Each belongs in the
public API; until then they are wired here.
"""

import time
from collections import deque
from dataclasses import replace
from pathlib import Path

import esper
from direct.showbase.DirectObject import DirectObject
from panda3d.core import ClockObject

from posetrack.characters import SpriteCharacter
from posetrack.components import CameraFrame
from posetrack.components.character import CharacterBinding
from posetrack.components.tracker import BACKENDS
from posetrack.errors import PosetrackError
from posetrack.game import keys
from posetrack.game.cast import load_player, place_player, place_sprite
from posetrack.game.editor import EditorPanel
from posetrack.game.hud import Hud
from posetrack.game.pip import PictureInPicture, pip_image
from posetrack.game.probe import PoseProbe, Report
from posetrack.game.reload import SceneReloader, apply_live
from posetrack.game.report import hud_data, print_summary, record_frame
from posetrack.game.session import MODELS, TrackerSession
from posetrack.game.settings import GameSettings
from posetrack.game.source import DEFAULT_CLIP, open_game_source
from posetrack.game.targets import Reach, TargetGame
from posetrack.game.two_players import (
    MULTI_PERSON_MODELS,
    OtherPlayer,
    place_side_by_side,
)
from posetrack.game.world import Stage
from posetrack.retarget import RetargetConfig
from posetrack.stages.gpu_context import GpuContext
from posetrack.systems.animate import AnimateSystem
from posetrack.systems.retarget import RetargetSystem

EFFECTOR_BONES = {"left_hand": "leftHand", "right_hand": "rightHand",
                  "left_foot": "leftFoot", "right_foot": "rightFoot"}  # fmt: skip
_FPS_WINDOW = 30  # frames the fps and latency readouts average over (~1 s)


class DemoGame(DirectObject):
    """Everything on screen and the frame task; `close()` frees the tracker and the nodes."""

    def __init__(self, base: object, settings: GameSettings) -> None:
        super().__init__()
        self.base, self.settings = base, settings
        self.quit_requested = False
        self.stage = Stage(base)
        font = base.loader.load_font("cmtt12")  # fixed width: the perf panel's columns line up
        # characters: the scene's 3D one (the mannequin or a model file) in the world, the
        # sprite on screen (placed by apply_live below)
        self._player_notice = ""
        self.player_kind = settings.player.kind  # what is loaded (a failed model: mannequin)
        try:
            self.actor, self.skeleton = load_player(settings.player)
        except PosetrackError as error:
            self._player_notice = f"{settings.player.kind}: {error}; playing the mannequin"
            self.player_kind = "mannequin"
            self.actor, self.skeleton = load_player(replace(settings.player, kind="mannequin"))
        self.actor.reparent_to(self.stage.player)
        self.sprite_holder = base.aspect2d.attach_new_node("sprite-holder")
        self.sprite = SpriteCharacter(self.sprite_holder)
        self.focus = "mannequin"
        # tracking: the window's own GL context is lent to the GPU paths

        self._source_spec = settings.source
        self._first_source = True
        self.session = TrackerSession(
            self._open_source, GpuContext.from_showbase(base), settings.track, settings.filter
        )
        self.retarget_config = RetargetConfig(mirror=settings.mirror)
        self.sprite_config = RetargetConfig(mirror=settings.sprite.mirror)
        self.bindings = [
            CharacterBinding(
                self.session.pose_entity, self.retarget_config, self.actor, self.skeleton
            ),
            CharacterBinding(self.session.pose_entity, self.sprite_config, sprite=self.sprite),
        ]
        self.entities = [esper.create_entity(b) for b in self.bindings]
        self.feeds: list = [None, None]  # per-character smoothing (cast.CharacterFeed) or None
        # several players: player 1 is the character above, each further one an OtherPlayer
        # (two_players.py); the corner sprite is player 1's only, so it stays out of the way
        self.players = settings.rules.players
        self.others = [OtherPlayer(self, n) for n in range(2, self.players + 1)]
        if self.others:
            self.sprite_holder.hide()
        if settings.players_notice:  # the model was changed to find several people
            print(f"posetrack-demo: {settings.players_notice}", flush=True)
            self._notice = settings.players_notice
        self.retarget, self.animate = RetargetSystem(), AnimateSystem()
        # the rules, and what shows them
        self.probe = PoseProbe(self.actor, self.skeleton)
        reach = Reach.from_positions(self.skeleton.rest_positions)
        self.rules = TargetGame(reach, settings.rules, settings.seed)
        self.t0 = self.now  # game time of the start (the headless lines count from here)
        self.restart()  # every player's round starts now
        self.hud = Hud(base, font)
        self.hud.notice = self._notice
        self.pip = PictureInPicture(base.a2dTopRight, 0.62, (-0.05, -0.07))
        self.clip_ended = False  # a clip that does not loop has played to its end
        self.help = keys.HelpOverlay(base.aspect2d, font)
        self.editor = EditorPanel(self, base.a2dTopLeft, font)
        self.report = Report()
        self.reloader = SceneReloader(self) if settings.scene is not None else None
        apply_live(self, settings)  # the scene's HUD parts, placements, smoothing overrides
        if self._player_notice:
            self.hud.notice = self._player_notice
        # what the HUD shows (game/report.py hud_data): frame end times (fps), capture -> joints
        # latencies, and the demo's own retarget/animate times
        self.ticks: deque[float] = deque(maxlen=_FPS_WINDOW)
        self.latencies: deque[float] = deque(maxlen=_FPS_WINDOW)
        self._last_result = self._last_frame = -1
        self._pending: str | None = None  # a rebuild to run next frame (after the HUD says so)
        self.extra_ms: dict[str, float] = {}
        keys.bind(self.accept, self._actions())
        base.taskMgr.add(self._frame, "posetrack-demo-frame", sort=10)

    # -- set-up helpers ------------------------------------------------------------------
    def _open_source(self):
        source, notice = open_game_source(self._source_spec, self.settings.offscreen,
                                          self.settings.loop)  # fmt: skip
        self.clip_ended = False
        if notice and self._first_source:
            print(f"posetrack-demo: {notice}", flush=True)
            self._notice = notice
        if self._source_spec is None and notice:
            self._source_spec = DEFAULT_CLIP  # no camera now: rebuilds reopen the clip
        self._first_source = False
        return source

    _notice = ""

    def _actions(self) -> dict:
        return {
            "help": self.help.toggle,
            "model": lambda: self._schedule("model"),
            "backend": lambda: self._schedule("backend"),
            "smoothing": lambda: self.session.set_smoothing(not self.session.config.smoothing),
            "mirror": self.toggle_mirror,
            "character": self.toggle_focus,
            "pip": lambda: self.pip.show(self.pip.root.is_hidden()),
            "editor": self.editor.toggle,
            "restart": self.restart,
            "quit": self.quit,
            **self.editor.actions(),
        }

    @property
    def now(self) -> float:
        """Game time, seconds (fixed steps in the headless mode)."""
        return ClockObject.get_global_clock().get_frame_time()

    # -- actions -------------------------------------------------------------------------
    def restart(self) -> None:
        for rules in [self.rules, *(other.rules for other in self.others)]:
            rules.start(self.now)

    def _schedule(self, what: str) -> None:
        s = self.session.config
        models = MULTI_PERSON_MODELS if self.others else MODELS
        if what == "model":
            s.model = models[(models.index(s.model) + 1) % len(models)] if s.model in models \
                else models[0]  # fmt: skip
            self.hud.notice = f"loading model {s.model} ..."
        else:
            s.preprocess = s.decode = BACKENDS[(BACKENDS.index(s.preprocess) + 1) % len(BACKENDS)]
            self.hud.notice = f"switching to the {s.preprocess} backend ..."
        self._pending = what

    def rebuild(self) -> None:
        """Rebuild the tracker from the session's settings; rebind the characters."""
        self.session.build()
        self.bind_trackers()
        s = self.session.config
        self.hud.notice = self.session.error and f"{s.model}: {self.session.error}" or \
            f"model {s.model}, backend {s.preprocess}"  # fmt: skip

    def bind_trackers(self) -> None:
        """Each character reads its own feed (per-character smoothing) or the tracker's pose
        (the stand-in when there is no tracker: the characters relax)."""
        for binding, feed in zip(self.bindings, self.feeds, strict=True):
            tracking = self.session.tracker is not None
            binding.tracker = feed.entity if feed is not None and tracking else \
                self.session.pose_entity  # fmt: skip
        tracker = self.session.tracker
        for other in self.others:
            other.bind(None if tracker is None else tracker.entity, self.session.pose_entity)

    def place_characters(self) -> None:
        """The 3D character and the sprite where the scene (and the focus key) put them."""
        big = self.focus == "sprite"
        self.sprite_holder.reparent_to(self.base.aspect2d)
        place_player(self.stage.player, self.settings.player, self.settings.character_scale, big)
        place_sprite(self.sprite, self.settings.sprite, self.base.get_aspect_ratio(), big)
        place_side_by_side(self)

    def set_player(self, character: object) -> str:
        """Swap the 3D character for the scene's new one (the mannequin or a model file);
        returns "" or why the old one stays. Its binding entity is made afresh (the animate
        stage keeps per-entity joint handles); the round's reach follows the new skeleton."""
        try:
            actor, skeleton = load_player(character)
        except PosetrackError as error:
            return f"{character.kind}: {error}; keeping {self.player_kind}"
        old, self.actor, self.skeleton = self.actor, actor, skeleton
        actor.reparent_to(self.stage.player)
        old.cleanup()
        old.remove_node()
        self.bindings[0] = replace(self.bindings[0], actor=actor, skeleton=skeleton)
        esper.delete_entity(self.entities[0], immediate=True)
        self.entities[0] = esper.create_entity(self.bindings[0])
        self.probe = PoseProbe(actor, skeleton)
        self.rules.reach = Reach.from_positions(skeleton.rest_positions)
        self.player_kind = character.kind
        return ""

    def toggle_mirror(self) -> None:
        self.retarget_config.mirror = not self.retarget_config.mirror
        self.sprite_config.mirror = not self.sprite_config.mirror
        for other in self.others:
            other.config.mirror = self.retarget_config.mirror
        if self.others:
            self.place_characters()  # mirrored, the players swap sides

    def toggle_focus(self) -> None:
        """Mannequin focus: the sprite in its corner. Sprite focus: the sprite large on the left,
        the mannequin (and its targets) smaller to the right."""
        self.focus = "sprite" if self.focus == "mannequin" else "mannequin"
        self.place_characters()

    def quit(self) -> None:
        self.quit_requested = True
        if self.settings.frames <= 0:
            self.base.userExit()

    # -- the frame -----------------------------------------------------------------------
    def _frame(self, task: object) -> int:
        if task.frame == 0:
            for event in self.settings.press:  # scripted keys: as if pressed now
                self.base.messenger.send(event)
        if self._pending is not None and task.frame > 0:
            self._pending = None
            self.rebuild()
        if self.reloader is not None:
            self.reloader.poll(time.perf_counter())
        self.session.process()
        if self.session.tracker is not None:
            base = self.session.filter_config()
            for feed in self.feeds:
                if feed is not None:
                    feed.process(self.session.tracker.entity, base)
            for other in self.others:
                other.feed_step(self.session.tracker.entity, base)
        start = time.perf_counter()
        self.retarget.process()
        mid = time.perf_counter()
        self.animate.process()
        self.actor.update(force=True)  # joints now, not at the next cull: touches read them
        done = time.perf_counter()
        self.extra_ms = {"retarget": (mid - start) * 1e3, "animate": (done - mid) * 1e3}
        result = self.session.result
        latency = None
        if result is not None and result.frame != self._last_result:
            self._last_result = result.frame
            if result.poses:
                latency = (done - result.t_capture) * 1e3
                self.latencies.append(latency)
        # the rules: touches by the character's hands and feet, in its own space
        now = self.now
        effectors = {name: self.probe.position(bone) for name, bone in EFFECTOR_BONES.items()}
        for touch in self.rules.update(now, effectors):
            self.stage.burst(touch.target.position, touch.target.kind, self.base.taskMgr)
        self.stage.show_targets(self.rules.state.targets, now, self.rules.rules.radius)
        for other in self.others:
            other.play(self, now, EFFECTOR_BONES)
        self._update_pip(result)
        self.ticks.append(done)
        self.hud.update(hud_data(self, result))
        record_frame(self, result, latency)
        return task.cont

    def _update_pip(self, result: object) -> None:
        if self.session.tracker is None or self.pip.root.is_hidden():
            return
        frame = esper.try_component(self.session.tracker.entity, CameraFrame)
        if frame is None or frame.index == self._last_frame:
            return
        self._last_frame = frame.index
        self.pip.update(pip_image(frame.pixels, result, self.retarget_config.mirror))

    def print_summary(self, screenshot: Path | None) -> None:
        """The final machine-readable line (the headless test reads it)."""
        print_summary(self, screenshot)

    def close(self) -> None:
        self.ignore_all()
        for feed in self.feeds:
            if feed is not None:
                feed.close()
        self.base.taskMgr.remove("posetrack-demo-frame")
        for other in self.others:
            other.close()
        self.others = []
        self.session.close()
        for entity in self.entities:
            if esper.entity_exists(entity):
                esper.delete_entity(entity, immediate=True)
        self.sprite.close()
