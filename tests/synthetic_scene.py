"""The mannequin, driven by known motion (synthetic_motion.py), rendered by real Panda3D.

`SyntheticScene(base)` builds, under a root of its own (the host's `render` is not touched): a
room (a planked floor and plastered walls with a door, a window and pictures, from procedural
textures), a key light, a fill light and ambient light, the generated mannequin
(posetrack.characters.build_mannequin) with every joint under program control, and an offscreen
buffer with its own perspective camera (a webcam's 60 deg horizontal field of view). `frame(t,
camera)` poses the figure for time t, renders it from that camera and returns the picture (RGB,
with mild sensor noise) and the truth: each tracked keypoint's position in the camera's axes
(x right, y down, z away: the axes of BlazePose's world landmarks) and in the image.
"""

from dataclasses import dataclass

import numpy as np
from panda3d.core import (
    AmbientLight,
    Camera,
    CardMaker,
    DirectionalLight,
    FrameBufferProperties,
    GraphicsOutput,
    GraphicsPipe,
    LMatrix4f,
    LPoint3f,
    NodePath,
    PerspectiveLens,
    Point2,
    SamplerState,
    Texture,
    Vec4,
    WindowProperties,
)
from synthetic_motion import motion, posed_joints

from posetrack.characters import build_mannequin
from posetrack.characters.mannequin import JOINT_PARENTS, rest_joints

SIZE = (1280, 720)  # a 720p webcam
FPS = 30.0
HFOV_DEG = 60.0  # a typical webcam's horizontal field of view
SENSOR_NOISE = 2.0  # 8-bit levels of Gaussian noise: a webcam in good light
AIM_Z = 0.95  # metres: the cameras look at the figure's middle

# tracked keypoint -> the mannequin joint at that place (the joint origin)
KEYPOINT_JOINTS = {
    f"{side}_{kp}": f"{joint}_{side[0]}"
    for side in ("left", "right")
    for kp, joint in (
        ("shoulder", "upper_arm"), ("elbow", "lower_arm"), ("wrist", "hand"),
        ("hip", "upper_leg"), ("knee", "lower_leg"), ("ankle", "foot"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class CameraSpec:
    """A camera on a circle around the figure: azimuth 0 in front of it (at -Y), positive
    toward the figure's left (+X); distance on the ground, height of the lens, metres."""

    name: str
    azimuth_deg: float
    distance_m: float
    height_m: float


CAMERAS = {
    "front": CameraSpec("front", 0.0, 3.6, 1.2),  # a webcam on a desk or TV
    "high-left": CameraSpec("high-left", 50.0, 4.0, 2.2),  # a corner camera, looking down
}


@dataclass
class Truth:
    """What was rendered on one frame: keypoint -> position in the camera's axes (metres, x
    right, y down, z away) and in the image (pixels, y down); the figure's heading."""

    time: float
    heading_deg: float
    camera: dict[str, list[float]]
    image: dict[str, list[float]]


def _texture(name: str, pixels: np.ndarray) -> Texture:
    """A mipmapped RGB texture from an (H, W, 3) uint8 array (row 0 at the top)."""
    texture = Texture(name)
    h, w = pixels.shape[:2]
    texture.setup_2d_texture(w, h, Texture.T_unsigned_byte, Texture.F_rgb)
    texture.set_ram_image(np.ascontiguousarray(pixels[::-1, :, ::-1]).tobytes())  # BGR, bottom up
    texture.set_minfilter(SamplerState.FT_linear_mipmap_linear)
    texture.set_wrap_u(SamplerState.WM_repeat)
    texture.set_wrap_v(SamplerState.WM_repeat)
    return texture


def _planks(rng: np.random.Generator) -> np.ndarray:
    """Wooden floor boards: warm brown, grain noise, a dark seam every 64 px."""
    h, w = 512, 512
    base = np.array([0.52, 0.38, 0.25]) * 255
    grain = rng.normal(0, 1, (h, w // 8)).repeat(8, axis=1)
    board = rng.uniform(-18, 18, (1, w // 64)).repeat(64, axis=1)
    img = base[None, None, :] + (6 * grain + board)[..., None]
    img[:, ::64] *= 0.55  # seams
    return np.clip(img, 0, 255).astype(np.uint8)


def _plaster(rng: np.random.Generator, colour: tuple[float, float, float]) -> np.ndarray:
    """A painted wall: a flat colour with soft blotches and a skirting board at the bottom."""
    h, w = 256, 512
    blotch = rng.normal(0, 1, (h // 16, w // 16)).repeat(16, 0).repeat(16, 1)
    img = np.array(colour)[None, None, :] * 255 + 5 * blotch[..., None]
    img[-10:] = (235, 232, 225)  # skirting
    return np.clip(img, 0, 255).astype(np.uint8)


class SyntheticScene:
    """A room, lights, the controllable mannequin, an offscreen camera; see the module doc."""

    def __init__(
        self, base: object, size: tuple[int, int] = SIZE, seed: int = 0, face: bool = True
    ) -> None:
        self.base, self.size = base, size
        self.rng = np.random.default_rng(seed)
        self.root = NodePath("synthetic-scene")
        fb = FrameBufferProperties()
        fb.set_rgba_bits(8, 8, 8, 8)
        fb.set_depth_bits(24)
        self.buffer = base.graphics_engine.make_output(
            base.pipe, "synthetic", -20, fb, WindowProperties.size(*size),
            GraphicsPipe.BF_refuse_window, base.win.gsg, base.win,
        )  # fmt: skip
        self.texture = Texture("synthetic")
        self.buffer.add_render_texture(self.texture, GraphicsOutput.RTM_copy_ram)
        self.buffer.set_clear_color(Vec4(0.6, 0.65, 0.7, 1))
        self.lens = PerspectiveLens()
        self.lens.set_aspect_ratio(size[0] / size[1])
        self.lens.set_fov(HFOV_DEG, 2 * np.degrees(np.arctan(np.tan(np.radians(HFOV_DEG / 2))
                                                             * size[1] / size[0])))  # fmt: skip
        self.lens.set_near_far(0.1, 50.0)
        self.camera = self.root.attach_new_node(Camera("synthetic-camera", self.lens))
        region = self.buffer.make_display_region()
        region.set_camera(self.camera)
        self._room()
        self._lights()
        self.actor = build_mannequin()
        self.actor.reparent_to(self.root)
        self.rest = rest_joints()
        self._controls = {
            name: self.actor.controlJoint(None, "modelRoot", name) for name in JOINT_PARENTS
        }
        self._rest_rot = self._rest_rotations()
        self.face = self._face()
        if not face:  # the bare mannequin: a nose and hair only (docs/synthetic-loop.md)
            self.face.hide()

    # -- the set ---------------------------------------------------------------------------
    def _card(self, name: str, frame: tuple[float, float, float, float], texture: Texture,
              repeat: tuple[float, float]) -> NodePath:  # fmt: skip
        cm = CardMaker(name)
        cm.set_frame(*frame)
        cm.set_uv_range((0, 0), repeat)
        card = self.root.attach_new_node(cm.generate())
        card.set_texture(texture)
        card.set_two_sided(True)
        return card

    def _room(self) -> None:
        half, height = 4.0, 3.0  # an 8 m x 8 m room, 3 m high
        floor = self._card("floor", (-half, half, -half, half), _texture("planks",
                           _planks(self.rng)), (4, 4))  # fmt: skip
        floor.set_p(-90)
        colours = [(0.80, 0.76, 0.68), (0.62, 0.70, 0.74), (0.78, 0.72, 0.62), (0.70, 0.74, 0.64)]
        for i, colour in enumerate(colours):  # back, left, front, right walls
            plaster = _texture(f"plaster{i}", _plaster(self.rng, colour))
            wall = self._card(f"wall{i}", (-half, half, 0, height), plaster, (2, 1))
            wall.set_h(90 * i)
            wall.set_pos(wall, 0, half, 0)
            self._clutter(wall, i)

    def _clutter(self, wall: NodePath, index: int) -> None:
        """A door, a window and framed pictures: edges and colours a real room has."""
        items = [((-3.2, -2.3, 0.0, 2.1), (0.45, 0.3, 0.2)), ((1.2, 2.6, 1.0, 2.2), (0.75, 0.85,
                 0.95)), ((-1.3, -0.4, 1.4, 2.0), (0.2, 0.35, 0.3)), ((2.9, 3.5, 1.2, 1.7),
                 (0.6, 0.2, 0.15))]  # fmt: skip
        for k, (frame, colour) in enumerate(items[index % 2 :] + items[: index % 2]):
            cm = CardMaker(f"item{index}-{k}")
            cm.set_frame(*frame)
            item = wall.attach_new_node(cm.generate())
            item.set_y(-0.01)
            item.set_color(*colour, 1)
            item.set_two_sided(True)

    def _lights(self) -> None:
        key = self.root.attach_new_node(DirectionalLight("key"))
        key.node().set_color(Vec4(0.85, 0.82, 0.76, 1))
        key.set_hpr(-35, -50, 0)
        fill = self.root.attach_new_node(DirectionalLight("fill"))
        fill.node().set_color(Vec4(0.25, 0.27, 0.32, 1))
        fill.set_hpr(140, -20, 0)
        ambient = self.root.attach_new_node(AmbientLight("ambient"))
        ambient.node().set_color(Vec4(0.38, 0.38, 0.42, 1))
        for light in (key, fill, ambient):
            self.root.set_light(light)

    def _face(self) -> NodePath:
        """Eyes, brows and a mouth on the mannequin's blank face (decals in the head joint's
        axes: +Y up the head, +Z to the front; the head's front surface is at z ~0.11 m)."""
        face = self.root.attach_new_node("face")
        parts = [  # (x centre, height, half width, half height, depth, colour)
            (0.033, 0.125, 0.016, 0.008, 0.104, (0.95, 0.95, 0.93)),  # eye whites
            (0.033, 0.125, 0.007, 0.007, 0.106, (0.18, 0.12, 0.08)),  # irises
            (0.034, 0.146, 0.019, 0.004, 0.101, (0.25, 0.17, 0.12)),  # brows
        ]
        mouth = (0.0, 0.055, 0.022, 0.006, 0.101, (0.66, 0.36, 0.34))
        for k, (x, y, w, h, z, colour) in enumerate([*parts, mouth]):
            for side in (1, -1) if x else (1,):
                cm = CardMaker(f"face{k}")
                cm.set_frame(side * x - w, side * x + w, -h, h)
                card = face.attach_new_node(cm.generate())
                card.set_p(-90)  # the card's face (-Y) turned to the front (+Z)
                card.set_pos(0, y, z)
                card.set_color(*colour, 1)
        return face

    # -- posing ----------------------------------------------------------------------------
    def _rest_rotations(self) -> dict[str, np.ndarray]:
        """Each joint's rest joint-to-model rotation (rows: its axes), from the rig itself."""
        net: dict[str, np.ndarray] = {}
        for name, parent in JOINT_PARENTS.items():
            local = _np(self._controls[name].get_mat())
            net[name] = local if parent is None else local @ net[parent]
        for name in JOINT_PARENTS:  # the rig must be the one rest_joints() describes
            assert np.allclose(net[name][3, :3], self.rest[name], atol=1e-4), name
        return {name: m[:3, :3] for name, m in net.items()}

    def pose(self, t: float) -> dict[str, np.ndarray]:
        """Pose the mannequin for time `t`; every joint's position (model = scene axes)."""
        position, world = posed_joints(self.rest, JOINT_PARENTS, motion(t, self.rest))
        posed = {}
        for name, parent in JOINT_PARENTS.items():
            m = np.eye(4)
            m[:3, :3] = self._rest_rot[name] @ world[name].T  # row vectors: rest, then the turn
            m[3, :3] = position[name]
            posed[name] = m
            local = m if parent is None else m @ np.linalg.inv(posed[parent])
            self._controls[name].set_mat(LMatrix4f(*local.astype(np.float32).ravel()))
        self.face.set_mat(LMatrix4f(*posed["head"].astype(np.float32).ravel()))
        return position

    # -- cameras and pictures --------------------------------------------------------------
    def aim(self, spec: CameraSpec) -> None:
        a = np.radians(spec.azimuth_deg)
        self.camera.set_pos(spec.distance_m * np.sin(a), -spec.distance_m * np.cos(a),
                            spec.height_m)  # fmt: skip
        self.camera.look_at(0, 0, AIM_Z)

    def frame(self, t: float, spec: CameraSpec) -> tuple[np.ndarray, Truth]:
        """The picture (RGB uint8) of time `t` from camera `spec`, and what it shows."""
        from synthetic_motion import heading_deg

        joints = self.pose(t)
        self.aim(spec)
        engine = self.base.graphics_engine
        engine.render_frame()
        engine.render_frame()  # the RAM copy of a buffer's frame lands one frame later
        raw = np.frombuffer(bytes(self.texture.get_ram_image_as("RGB")), np.uint8)
        image = raw.reshape(self.texture.get_y_size(), self.texture.get_x_size(), 3)[::-1]
        noisy = image + self.rng.normal(0.0, SENSOR_NOISE, image.shape)
        picture = np.clip(noisy, 0, 255).astype(np.uint8)
        in_camera, in_image = {}, {}
        for keypoint, joint in KEYPOINT_JOINTS.items():
            p = self.camera.get_relative_point(self.root, LPoint3f(*joints[joint]))
            in_camera[keypoint] = [float(p.x), float(-p.z), float(p.y)]
            film = Point2()
            self.lens.project(p, film)
            in_image[keypoint] = [float((film.x + 1) / 2 * self.size[0]),
                                  float((1 - film.y) / 2 * self.size[1])]  # fmt: skip
        return picture, Truth(t, heading_deg(t), in_camera, in_image)

    def close(self) -> None:
        self.actor.cleanup()
        self.base.graphics_engine.remove_window(self.buffer)
        self.root.remove_node()


def _np(mat: LMatrix4f) -> np.ndarray:
    return np.array([[mat.get_cell(r, c) for c in range(4)] for r in range(4)])
