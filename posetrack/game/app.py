"""`posetrack-demo`: the player's tracked pose drives a mannequin (and a 2D sprite); touch the
targets with hands and feet before the round ends.

    posetrack-demo                          # webcam, or the sample clip when there is none
    posetrack-demo --source sample:sports2d-demo.mp4 --offscreen --frames 60 --screenshot a.png
"""

import argparse
import logging
import os
import sys
import time

import esper
from panda3d.core import ClockObject, Filename, load_prc_file_data

from posetrack.cli.guard import run_guarded
from posetrack.errors import PosetrackError
from posetrack.game.options import parse_args, settings_from_args
from posetrack.game.play import DemoGame
from posetrack.game.settings import HEADLESS_FPS, GameSettings

log = logging.getLogger("posetrack")
WORLD = "posetrack-demo"  # the esper world the game's entities live in


def _configure_panda(settings: GameSettings) -> None:
    """PRC before ShowBase: window size and title, or the headless display (EGL, offscreen)."""
    w, h = settings.window
    prc = f"win-size {w} {h}\nwindow-title posetrack demo\nprint-pipe-types false\n"
    if settings.offscreen:
        from posetrack.stages.gpu_context import HEADLESS_PRC  # lazy: offscreen runs only

        # Mesa's EGL must use the surfaceless platform (no display server) unless told otherwise
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        prc += HEADLESS_PRC
    # 4x multisampling smooths the mannequin's silhouette; a driver without it ignores it
    prc += "framebuffer-multisample 1\nmultisamples 4\n"
    load_prc_file_data("posetrack-demo", prc)


class DemoApp:
    """The ShowBase, the game and its frame loop."""

    def __init__(self, settings: GameSettings) -> None:
        _configure_panda(settings)
        from direct.showbase.ShowBase import ShowBase  # lazy: after the PRC above is loaded

        self.settings = settings
        try:
            self.base = ShowBase(windowType="offscreen" if settings.offscreen else None)
        except Exception as error:  # ShowBase raises a bare Exception when no window opens
            raise PosetrackError(
                f"no window could be opened ({error}); on a machine without a display, run "
                "with --offscreen --frames N --screenshot FILE.png"
            ) from error
        if self.base.win is None:
            raise PosetrackError("no window could be opened (for no display: --offscreen)")
        clock = ClockObject.get_global_clock()
        if settings.offscreen:
            # a fixed step: game time, animation and the round repeat exactly run to run
            clock.set_mode(ClockObject.M_non_real_time)
            clock.set_frame_rate(HEADLESS_FPS)
        esper.switch_world(WORLD)
        self.game = DemoGame(self.base, settings)
        self.base.exitFunc = self.close

    def run(self) -> int:
        """Interactive: until quit. Headless (or --frames): N frames, screenshot, summary."""
        if self.settings.frames <= 0:
            self.base.run()
            return 0
        for _ in range(self.settings.frames):
            self.base.taskMgr.step()
            if self.game.quit_requested:
                break
        if self.settings.screenshot is not None:
            self.save_screenshot(str(self.settings.screenshot))
        self.game.print_summary(self.settings.screenshot)
        self.close()
        return 0

    def save_screenshot(self, path: str) -> None:
        """The last rendered frame as PNG (the window's or the offscreen buffer's pixels)."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if not self.base.win.save_screenshot(Filename.from_os_specific(path)):
            raise PosetrackError(f"could not save the screenshot to {path}")

    def close(self) -> None:
        game, self.game = getattr(self, "game", None), None
        if game is not None:
            game.close()
        if esper.current_world == WORLD:
            esper.switch_world("default")
        if WORLD in esper.list_worlds():
            esper.delete_world(WORLD)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `posetrack-demo` / `python -m posetrack.game`."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    args = parse_args(argv)
    return run_guarded("posetrack-demo", lambda: _play(args))


def _play(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    settings = settings_from_args(args)
    app = DemoApp(settings)
    if settings.offscreen:
        print(f"posetrack-demo: started in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    code = app.run()
    if settings.frames > 0:
        # ShowBase's exit hooks would call sys.exit themselves; we are done and closed
        app.base.destroy()
    return code
