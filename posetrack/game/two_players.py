"""Two players (`posetrack-demo --players 2`, or `players = 2` in a scene's [entity.rules]).

Two people in front of one camera drive two characters standing side by side, each with
targets and a score of their own. A multi-person model finds both people; the tracker's
identity stage (posetrack/stages/identity.py) numbers them, so the person on the left of the
camera image on the first frame is player 1 and stays player 1 when the two cross or one
steps out for a moment. Each character reads its own player's pose through a CharacterFeed.

Player 1 is the game's own character (play.py); `OtherPlayer` is each further one: its
mannequin on a lane of the stage, its binding and feed, its round and what it reports.
"""

from dataclasses import replace

import esper

from posetrack.components.character import CharacterBinding, FilterConfig
from posetrack.errors import PosetrackError
from posetrack.game.cast import CharacterFeed, load_player
from posetrack.game.probe import PoseProbe, Report
from posetrack.game.settings import GameSettings
from posetrack.game.targets import Reach, TargetGame
from posetrack.retarget import RetargetConfig

MAX_PLAYERS = 2  # one camera's picture holds two people side by side at a playable size
# The models that report several people, the demo's pick first: MoveNet MultiPose found both
# people on 375 of 400 two-person frames and never a third pose, PoseNet on 242 with a third
# (a split body or the person at the back) on 71 (docs/two-players.md, the measurement).
MULTI_PERSON_MODELS = ("movenet-multipose", "posenet")
# Each character stands this far (metres) to the side of the middle: two 1.2 m arm spans and
# their side targets fit in the 5 m the camera sees across at the character's distance.
SIDE_M = 1.15
# Player 2's mannequin is tinted (colour scale) so the two read apart at a glance.
TINT = (0.75, 0.95, 1.3, 1.0)
SEED_STEP = 7919  # each player's targets come from seed + this * index: different places


def fit_players(settings: GameSettings, model_chosen: bool) -> str:
    """Make the tracker fit `settings.rules.players`: several players need a multi-person
    model (the demo picks movenet-multipose unless `model_chosen`; a chosen single-person
    model is an error) reporting that many people. Returns a notice ("" when none)."""
    players = settings.rules.players
    if players < 2:
        return ""
    track = settings.track
    track.max_poses = players
    if track.model in MULTI_PERSON_MODELS:
        return ""
    if model_chosen:
        raise PosetrackError(
            f"--players {players} needs a multi-person model ({', '.join(MULTI_PERSON_MODELS)}); "
            f"{track.model} finds one person"
        )
    old, track.model = track.model, MULTI_PERSON_MODELS[0]
    return f"{players} players: tracking with {track.model} ({old} finds one person)"


def side_of(player: int, players: int, mirror: bool) -> float:
    """Where player `player` (1-based) stands, x in metres: in the camera image's order from
    left to right, or from right to left when mirrored (each character then stands in front
    of its person, as in a mirror)."""
    if players < 2:
        return 0.0
    x = -SIDE_M + 2 * SIDE_M * (player - 1) / (players - 1)
    return -x if mirror else x


class OtherPlayer:
    """Player `number` (2, ...): a mannequin on its own lane of the stage, driven by the
    pose the identity stage gave that player, with its own round of targets."""

    def __init__(self, game: object, number: int) -> None:
        settings = game.settings
        self.number = number
        self.lane = number - 1
        self.node = game.stage.add_lane(f"player-{number}")
        try:
            self.actor, self.skeleton = load_player(settings.player)
        except PosetrackError:  # the scene's model file is player 1's notice already
            self.actor, self.skeleton = load_player(replace(settings.player, kind="mannequin"))
        self.actor.reparent_to(self.node)
        self.actor.set_color_scale(*TINT)
        self.feed = CharacterFeed({}, player=number)
        self.config = RetargetConfig(mirror=settings.mirror)
        self.binding = CharacterBinding(self.feed.entity, self.config, self.actor, self.skeleton,
                                        response_s=settings.player.response_s)  # fmt: skip
        self.entity = esper.create_entity(self.binding)
        self.probe = PoseProbe(self.actor, self.skeleton)
        reach = Reach.from_positions(self.skeleton.rest_positions)
        self.rules = TargetGame(reach, settings.rules, settings.seed + SEED_STEP * self.lane)
        self.report = Report()

    def bind(self, tracker: int | None, standin: int) -> None:
        """Read the feed while a tracker runs, else the stand-in (the character relaxes)."""
        self.binding.tracker = self.feed.entity if tracker is not None else standin

    def feed_step(self, tracker: int, base: FilterConfig) -> None:
        self.feed.process(tracker, base)

    def play(self, game: object, now: float, effector_bones: dict[str, str]) -> None:
        """After the animate stage: joints now, touches, targets, the frame's report."""
        self.actor.update(force=True)
        effectors = {name: self.probe.position(bone) for name, bone in effector_bones.items()}
        for touch in self.rules.update(now, effectors):
            game.stage.burst(touch.target.position, touch.target.kind, game.base.taskMgr,
                             self.lane)  # fmt: skip
        game.stage.show_targets(self.rules.state.targets, now, self.rules.rules.radius,
                                self.lane)  # fmt: skip
        result = game.session.result
        seen = result is not None and any(p.player == self.number for p in result.poses)
        self.report.frame(self.probe.summary(), seen, None)

    def place(self, x: float, position: tuple, heading: float, scale: float) -> None:
        self.node.set_pos(position[0] + x, position[1], position[2])
        self.node.set_h(heading)
        self.node.set_scale(scale)

    @property
    def touches(self) -> int:
        return self.rules.state.touches

    @property
    def misses(self) -> int:
        return self.rules.state.misses

    def summary(self) -> dict:
        """This player's part of the headless summary."""
        state = self.rules.state
        return {"player": self.number, "score": state.score, "touches": state.touches,
                "misses": state.misses, **self.report.summary_fields()}  # fmt: skip

    def close(self) -> None:
        self.feed.close()
        if esper.entity_exists(self.entity):
            esper.delete_entity(self.entity, immediate=True)
        self.actor.cleanup()
        self.node.remove_node()


def place_side_by_side(game: object) -> None:
    """Several players: each character in front of its person (`side_of`), player 1's
    shifted from where the scene puts it, the others placed likewise."""
    if not game.others:
        return
    character, mirror = game.settings.player, game.retarget_config.mirror
    player = game.stage.player
    player.set_x(player.get_x() + side_of(1, game.players, mirror))
    for other in game.others:
        other.place(side_of(other.number, game.players, mirror), character.position,
                    character.heading, game.settings.character_scale)  # fmt: skip


def screen_scores(game: object) -> list[tuple[str, int]]:
    """("P1", score), ("P2", score) in screen order, left to right; empty with one player."""
    if not game.others:
        return []
    mirror = game.retarget_config.mirror
    rounds = [(1, game.rules), *((o.number, o.rules) for o in game.others)]
    rounds.sort(key=lambda item: side_of(item[0], game.players, mirror))
    return [(f"P{n}", rules.state.score) for n, rules in rounds]


def player_summary(game: object) -> dict:
    """Player 1's part of the headless summary (the game's own character and round)."""
    state = game.rules.state
    return {"player": 1, "score": state.score, "touches": state.touches,
            "misses": state.misses, **game.report.summary_fields()}  # fmt: skip


def tracked(result: object, number: int) -> bool:
    """Whether player `number` has a pose on this frame."""
    return result is not None and any(p.player == number for p in result.poses)
