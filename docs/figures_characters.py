"""Regenerate docs/images/characters-*.png and characters-clip.gif: the mannequin and the sprite
driven by the Sports2D clip, rendered offscreen (EGL, no display server).

    EGL_PLATFORM=surfaceless .venv/bin/python docs/figures_characters.py

Pipeline as a game runs it: PoseTrackingSystem -> FilterSystem -> RetargetSystem ->
AnimateSystem (mirror off, so the figures move like the person in the clip thumbnail).
"""

import os
from pathlib import Path

os.environ.setdefault("EGL_PLATFORM", "surfaceless")

import cv2  # noqa: E402
import esper  # noqa: E402
import numpy as np  # noqa: E402
from panda3d.core import (  # noqa: E402
    AmbientLight,
    Camera,
    DirectionalLight,
    FrameBufferProperties,
    GraphicsOutput,
    GraphicsPipe,
    OrthographicLens,
    Texture,
    Vec4,
    WindowProperties,
    load_prc_file_data,
)
from PIL import Image  # noqa: E402

from posetrack.characters import SpriteCharacter, build_mannequin, skeleton_from_actor  # noqa: E402
from posetrack.components import (  # noqa: E402
    CameraFrame,
    PoseResult,
    TrackingConfig,  # noqa: E402
)
from posetrack.components.character import CharacterBinding  # noqa: E402
from posetrack.downloads.samples import sample_path  # noqa: E402
from posetrack.retarget import RetargetConfig  # noqa: E402
from posetrack.systems.animate import AnimateSystem  # noqa: E402
from posetrack.systems.filter import FilterSystem  # noqa: E402
from posetrack.systems.pose_tracking import PoseTrackingSystem  # noqa: E402
from posetrack.systems.retarget import RetargetSystem  # noqa: E402

OUT = Path(__file__).parent / "images"
SIZE = (640, 360)  # render size; the GIF is half that
STILLS = (45, 120, 190)  # clip frames saved as PNG
GIF_FRAMES = range(30, 230, 2)  # every other frame: 15 fps, well under 2 MB
THUMB = 0.3  # the clip frame inset, as a fraction of the render width


def _showbase():
    prc = "load-display p3headlessgl\nwindow-type offscreen\naudio-library-name null\n"
    load_prc_file_data("figures", prc + "notify-level-device fatal\n")
    from direct.showbase.ShowBase import ShowBase

    base = ShowBase(windowType="offscreen")
    fb = FrameBufferProperties()
    fb.set_rgba_bits(8, 8, 8, 8)
    fb.set_depth_bits(24)
    buffer = base.graphics_engine.make_output(
        base.pipe, "figure", -10, fb, WindowProperties.size(*SIZE),
        GraphicsPipe.BF_refuse_window, base.win.gsg, base.win,
    )  # fmt: skip
    texture = Texture("figure")
    buffer.add_render_texture(texture, GraphicsOutput.RTM_copy_ram)
    buffer.set_clear_color(Vec4(0.93, 0.94, 0.96, 1))
    lens = OrthographicLens()
    lens.set_film_size(3.6, 3.6 * SIZE[1] / SIZE[0])
    camera = base.render.attach_new_node(Camera("figure-camera", lens))
    camera.set_pos(0, -10, 0.95)
    buffer.make_display_region().set_camera(camera)
    sun = base.render.attach_new_node(DirectionalLight("sun"))
    sun.node().set_color(Vec4(0.8, 0.8, 0.8, 1))
    sun.set_hpr(-30, -40, 0)
    base.render.set_light(sun)
    ambient = base.render.attach_new_node(AmbientLight("ambient"))
    ambient.node().set_color(Vec4(0.45, 0.45, 0.5, 1))
    base.render.set_light(ambient)
    return base, texture


def _grab(base, texture: Texture) -> np.ndarray:
    base.graphics_engine.render_frame()
    base.graphics_engine.render_frame()  # the RAM copy of the first frame lands here
    image = np.frombuffer(bytes(texture.get_ram_image_as("RGB")), np.uint8)
    return image.reshape(texture.get_y_size(), texture.get_x_size(), 3)[::-1]


def _track() -> list[tuple[PoseResult, np.ndarray]]:
    """Every frame's poses and a thumbnail of the frame (tracked before any window opens:
    the tracker may hold a GL context of its own)."""
    esper.switch_world("figures-track")
    # the model the figures were made with (auto would pick by machine)
    tracker = PoseTrackingSystem(
        str(sample_path("sports2d-demo.mp4")), TrackingConfig(model="blazepose-full")
    )
    frames, last = [], -1
    w = int(SIZE[0] * THUMB)
    while not tracker.finished:
        tracker.process()
        result = tracker.result
        if result is None or result.frame == last:
            continue
        last = result.frame
        clip = esper.component_for_entity(tracker.entity, CameraFrame).pixels
        h = int(w * clip.shape[0] / clip.shape[1])
        frames.append((result, cv2.resize(clip[:, :, ::-1], (w, h), interpolation=cv2.INTER_AREA)))
    tracker.close()
    esper.switch_world("default")
    return frames


def main() -> None:
    frames = _track()
    base, texture = _showbase()
    esper.switch_world("figures")
    source = esper.create_entity()
    config = RetargetConfig(mirror=False)
    actor = build_mannequin()
    actor.reparent_to(base.render)
    actor.set_pos(-0.85, 0, 0)
    actor.set_h(20)  # a quarter view shows depth
    sprite = SpriteCharacter(base.render)
    sprite.set_root(0.9, 1.0)
    sprite.root.set_y(-1)
    esper.create_entity(CharacterBinding(source, config, actor, skeleton_from_actor(actor)))
    esper.create_entity(CharacterBinding(source, config, sprite=sprite))
    dt = 1 / 30  # one render frame per clip frame here
    stages = [FilterSystem(), RetargetSystem(), AnimateSystem(clock=lambda: dt)]
    OUT.mkdir(exist_ok=True)
    gif = []
    for result, thumb in frames:
        esper.add_component(source, result)
        for stage in stages:
            stage.process()
        image = _grab(base, texture).copy()
        h, w = thumb.shape[:2]
        image[-h - 8 : -8, SIZE[0] // 2 - w // 2 : SIZE[0] // 2 - w // 2 + w] = thumb
        if result.frame in STILLS:
            Image.fromarray(image).save(OUT / f"characters-frame{result.frame:03d}.png")
        if result.frame in GIF_FRAMES:
            gif.append(Image.fromarray(image).resize((SIZE[0] // 2, SIZE[1] // 2)))
    gif[0].save(OUT / "characters-clip.gif", save_all=True, append_images=gif[1:],
                duration=66, loop=0, optimize=True)  # fmt: skip
    base.destroy()


if __name__ == "__main__":
    main()
