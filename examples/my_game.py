"""My own game: Panda3D + esper, a character, and webcam pose tracking added in one line."""

import argparse

import esper
from direct.showbase.ShowBase import ShowBase
from panda3d.core import AmbientLight, DirectionalLight

import posetrack
from posetrack.characters import build_mannequin

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--source", default="webcam:0", help="webcam:N, a video, sample:NAME")
parser.add_argument("--frames", type=int, default=0, help="quit after N frames (0: never)")
args = parser.parse_args()

base = ShowBase()
base.disable_mouse()
base.camera.set_pos(0, -5, 1)
base.render.set_light(base.render.attach_new_node(DirectionalLight("sun")))
base.render.set_light(base.render.attach_new_node(AmbientLight("sky")))
hero = build_mannequin()
hero.reparent_to(base.render)

tracking = posetrack.init(base, source=args.source)  # <- the one line
tracking.drive(hero)  # the player's pose moves the hero


class Scoreboard(esper.Processor):
    """The game's own system: reads the tracked pose every frame."""

    def __init__(self) -> None:
        self.frames = self.tracked = 0
        self.hand = hero.expose_joint(None, "modelRoot", "hand_l")
        self.start, self.travel = self.hand.get_pos(base.render), 0.0

    def process(self) -> None:
        self.frames += 1
        self.tracked += tracking.status.state == "tracking"
        self.travel = max(self.travel, (self.hand.get_pos(base.render) - self.start).length())
        if self.frames == args.frames:
            print(f"my_game: frames={self.frames} tracked={self.tracked} "
                  f"hand_moved_m={self.travel:.3f} status={tracking.status.state}")  # fmt: skip
            tracking.close()
            base.userExit()


esper.add_processor(Scoreboard())
base.run()
