"""The demo's 3D stage: camera, lights, a tiled floor, the player's node, target markers.

Textures are drawn here with numpy (nothing is loaded from disk): a floor tile and a glowing
ring for targets.
"""

import numpy as np
from panda3d.core import (
    AmbientLight,
    CardMaker,
    DirectionalLight,
    Fog,
    NodePath,
    SamplerState,
    Texture,
    TransparencyAttrib,
    Vec3,
    Vec4,
)

from posetrack.game.targets import Target

SKY = Vec4(0.11, 0.13, 0.19, 1)  # deep blue-grey: the mannequin's colours stand out on it
FLOOR_SIZE = 60.0  # metres: the floor runs past the edges of the view, into the fog
TILE_M = 0.5  # one floor tile: shows depth and scale (a body is ~3.5 tiles tall)
HAND_COLOUR = (1.0, 0.78, 0.2)  # amber: targets for the hands
FOOT_COLOUR = (0.3, 0.85, 1.0)  # cyan: targets for the feet
_RING_PX = 128  # the ring texture's side: smooth at the ~100 px a target covers at 720p


def _tile_texture() -> Texture:
    """A 2 x 2-tile checker with soft grout lines, mipmapped (the far floor stays calm)."""
    n = 128
    yy, xx = np.mgrid[0:n, 0:n]
    checker = ((xx // (n // 2)) + (yy // (n // 2))) % 2
    rgb = np.where(checker[..., None] == 0, (46, 52, 66), (56, 63, 80)).astype(np.float64)
    line = (np.minimum(xx % (n // 2), yy % (n // 2)) < 2)[..., None]
    rgb = np.where(line, rgb * 0.75, rgb)
    return _texture("floor", rgb.astype(np.uint8), alpha=None)


def _ring_texture() -> Texture:
    """A white disc with a bright rim and a soft glow outside it, alpha-blended."""
    n = _RING_PX
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(xx - (n - 1) / 2, yy - (n - 1) / 2) / (n / 2)  # 1 at the edge
    rim = np.exp(-(((r - 0.72) / 0.07) ** 2))
    fill = np.where(r < 0.72, 0.35, 0.0)
    glow = np.where(r >= 0.72, np.exp(-((r - 0.72) / 0.12)), 0.0)
    alpha = np.clip(np.maximum(rim, fill) + 0.6 * glow, 0, 1) * (r < 1.0)
    rgb = np.full((n, n, 3), 255.0) * (0.75 + 0.25 * rim[..., None])
    return _texture("ring", rgb.astype(np.uint8), alpha=(alpha * 255).astype(np.uint8))


def _texture(name: str, rgb: np.ndarray, alpha: np.ndarray | None) -> Texture:
    tex = Texture(name)
    h, w = rgb.shape[:2]
    if alpha is None:
        tex.setup_2d_texture(w, h, Texture.T_unsigned_byte, Texture.F_rgb)
        data = rgb[::-1, :, ::-1]  # Panda's RAM images are bottom-up BGR
    else:
        tex.setup_2d_texture(w, h, Texture.T_unsigned_byte, Texture.F_rgba)
        data = np.dstack([rgb[..., ::-1], alpha])[::-1]
    tex.set_ram_image(np.ascontiguousarray(data).tobytes())
    tex.set_minfilter(SamplerState.FT_linear_mipmap_linear)
    tex.set_magfilter(SamplerState.FT_linear)
    tex.set_anisotropic_degree(4)
    return tex


class Stage:
    """Camera, lights and floor under `render`; `player` holds the character and its targets
    (everything in the character's space, so targets move and scale with it). Each further
    player gets a node of its own (`add_lane`); `lanes[i]` is player i + 1's."""

    def __init__(self, base: object) -> None:
        render: NodePath = base.render
        base.set_background_color(SKY)
        base.disable_mouse()
        # 46 deg across (~27 deg high at 16:9) from 6 m: the body and every target (up to
        # ~2.1 m) fit, with little perspective distortion of the body
        base.camLens.set_fov(46)
        base.camLens.set_near_far(0.1, 80.0)
        base.camera.set_pos(0, -6.0, 1.3)
        base.camera.look_at(0, 0, 1.12)
        fog = Fog("haze")
        fog.set_color(SKY)
        fog.set_linear_range(9.0, 30.0)  # clear around the player, the far floor fades out
        render.set_fog(fog)
        sun = render.attach_new_node(DirectionalLight("sun"))
        sun.node().set_color(Vec4(0.85, 0.82, 0.78, 1))  # warm key light
        sun.set_hpr(-25, -45, 0)
        fill = render.attach_new_node(DirectionalLight("fill"))
        fill.node().set_color(Vec4(0.25, 0.3, 0.4, 1))  # cool fill from the other side
        fill.set_hpr(140, -20, 0)
        ambient = render.attach_new_node(AmbientLight("ambient"))
        ambient.node().set_color(Vec4(0.32, 0.33, 0.38, 1))
        for light in (sun, fill, ambient):
            render.set_light(light)
        self.floor = self._make_floor(render)
        self.player = render.attach_new_node("player")
        self._shadow = self._make_shadow(self.player)
        self.lanes = [self.player]
        self._ring = _ring_texture()
        self._markers: dict[tuple[int, int], NodePath] = {}  # (lane, target id) -> ring

    def add_lane(self, name: str) -> NodePath:
        """A node for one more player's character and targets (with its own shadow)."""
        lane = self.player.get_parent().attach_new_node(name)
        self._make_shadow(lane)
        self.lanes.append(lane)
        return lane

    def _make_floor(self, render: NodePath) -> NodePath:
        cm = CardMaker("floor")
        half = FLOOR_SIZE / 2
        cm.set_frame(-half, half, -half, half)
        repeats = FLOOR_SIZE / (2 * TILE_M)  # the texture holds 2 x 2 tiles
        cm.set_uv_range((0, 0), (repeats, repeats))
        floor = render.attach_new_node(cm.generate())
        floor.set_p(-90)  # the card is made in XZ, facing -Y: lay it flat, facing up
        floor.set_texture(_tile_texture())
        floor.set_pos(0, FLOOR_SIZE / 2 - 8.0, 0)  # 8 m in front of the player, the rest behind
        return floor

    def _make_shadow(self, parent: NodePath) -> NodePath:
        """A soft dark disc under the feet: grounds the character without shadow maps."""
        n = 64
        yy, xx = np.mgrid[0:n, 0:n]
        r = np.hypot(xx - (n - 1) / 2, yy - (n - 1) / 2) / (n / 2)
        alpha = (np.clip(1.0 - r, 0, 1) ** 1.5 * 150).astype(np.uint8)
        tex = _texture("shadow", np.zeros((n, n, 3), np.uint8), alpha)
        cm = CardMaker("shadow")
        cm.set_frame(-0.45, 0.45, -0.3, 0.3)
        shadow = parent.attach_new_node(cm.generate())
        shadow.set_p(-90)
        shadow.set_z(0.004)  # just above the floor: no z-fighting
        shadow.set_texture(tex)
        shadow.set_transparency(TransparencyAttrib.M_alpha)
        shadow.set_light_off()
        shadow.set_depth_write(False)
        return shadow

    def show_targets(self, targets: list[Target], now: float, radius: float, lane: int = 0) -> None:
        """One billboard ring per live target (made, moved, faded, removed as the rules say)
        of the player whose node is `lanes[lane]`."""
        live = {(lane, t.id) for t in targets}
        for key in [k for k in self._markers if k[0] == lane and k not in live]:
            self._markers.pop(key).remove_node()
        for target in targets:
            marker = self._markers.get((lane, target.id))
            if marker is None:
                marker = self._markers[lane, target.id] = self._make_marker(
                    target, radius, self.lanes[lane]
                )
            # pulse gently, fade over the last second of the target's life
            left = target.expires - now
            fade = float(np.clip(left, 0.0, 1.0))
            pulse = 1.0 + 0.08 * np.sin(6.0 * (now - target.born))
            marker.set_scale(pulse)
            marker.set_alpha_scale(0.35 + 0.65 * fade)

    def _make_marker(self, target: Target, radius: float, parent: NodePath) -> NodePath:
        cm = CardMaker(f"target-{target.id}")
        size = radius / 0.72  # the ring's rim sits at 72% of the texture's half-width
        cm.set_frame(-size, size, -size, size)
        marker = parent.attach_new_node(cm.generate())
        marker.set_pos(Vec3(*target.position) + Vec3(0, -0.05, 0))  # just in front of the body
        marker.set_billboard_point_eye()
        marker.set_texture(self._ring)
        marker.set_transparency(TransparencyAttrib.M_alpha)
        marker.set_light_off()
        marker.set_depth_write(False)
        marker.set_bin("fixed", 10)  # drawn after the body: a target behind a limb still shows
        marker.set_depth_test(False)
        colour = HAND_COLOUR if target.kind == "hand" else FOOT_COLOUR
        marker.set_color(*colour, 1)
        return marker

    def burst(self, position: np.ndarray, kind: str, task_mgr: object, lane: int = 0) -> None:
        """A quick expanding flash where a target was touched (by player `lane` + 1)."""
        cm = CardMaker("burst")
        cm.set_frame(-0.2, 0.2, -0.2, 0.2)
        flash = self.lanes[lane].attach_new_node(cm.generate())
        flash.set_pos(Vec3(*position) + Vec3(0, -0.06, 0))
        flash.set_billboard_point_eye()
        flash.set_texture(self._ring)
        flash.set_transparency(TransparencyAttrib.M_alpha)
        flash.set_light_off()
        flash.set_depth_test(False)
        flash.set_bin("fixed", 11)
        flash.set_color(*(HAND_COLOUR if kind == "hand" else FOOT_COLOUR), 1)
        frames = [0]

        def grow(task: object) -> int:
            frames[0] += 1
            k = frames[0] / 12.0  # 12 frames: a flash, not a distraction
            flash.set_scale(1.0 + 2.0 * k)
            flash.set_alpha_scale(max(0.0, 1.0 - k))
            if k >= 1.0:
                flash.remove_node()
                return task.done
            return task.cont

        task_mgr.add(grow, f"burst-{id(flash)}")
