"""A 2D cut-out character: flat textured quads on a joint hierarchy, facing the viewer.

Each bone is a NodePath in the XZ plane of `root` (X to the viewer's right, Z up, seen from -Y,
so the character's left is on +X); its quad runs along the bone's own +X from the joint to the
next joint. Angles are degrees in the image plane, counter-clockwise from the viewer's right
(90 = straight up, -90 = straight down), as `atan2(up, right)` of a limb in the picture gives
them. The textures are drawn here with numpy (rounded, outlined cut-outs); nothing is loaded.
"""

from collections.abc import Mapping

import numpy as np
from panda3d.core import CardMaker, NodePath, Texture, TransparencyAttrib

from posetrack.characters.mannequin import mannequin_proportions
from posetrack.characters.mannequin_mesh import ACCENT, HAIR, SHIRT, SHOES, SHORTS, SKIN

# Bones, parents first, and each one's parent.
SPRITE_PARENTS: dict[str, str | None] = {
    "hips": None, "spine": "hips", "head": "spine",
    "leftUpperArm": "spine", "leftLowerArm": "leftUpperArm", "leftHand": "leftLowerArm",
    "rightUpperArm": "spine", "rightLowerArm": "rightUpperArm", "rightHand": "rightLowerArm",
    "leftUpperLeg": "hips", "leftLowerLeg": "leftUpperLeg", "leftFoot": "leftLowerLeg",
    "rightUpperLeg": "hips", "rightLowerLeg": "rightUpperLeg", "rightFoot": "rightLowerLeg",
}  # fmt: skip
SPRITE_BONES: tuple[str, ...] = tuple(SPRITE_PARENTS)

# Rest directions (degrees): upright body, arms hanging 15 degrees out from the sides, feet
# turned out 30 degrees below horizontal so they read as feet in a front view.
REST_ANGLES: dict[str, float] = {
    "hips": 90.0, "spine": 90.0, "head": 90.0,
    "leftUpperArm": -75.0, "leftLowerArm": -75.0, "leftHand": -75.0,
    "rightUpperArm": -105.0, "rightLowerArm": -105.0, "rightHand": -105.0,
    "leftUpperLeg": -90.0, "leftLowerLeg": -90.0, "leftFoot": -30.0,
    "rightUpperLeg": -90.0, "rightLowerLeg": -90.0, "rightFoot": -150.0,
}  # fmt: skip

# Drawing order (higher on top): legs behind the pelvis, arms in front of the torso.
_LAYER = {"UpperLeg": 10, "LowerLeg": 11, "Foot": 12, "hips": 20, "spine": 21, "head": 22,
          "UpperArm": 30, "LowerArm": 31, "Hand": 32}  # fmt: skip

PIXELS_PER_METRE = 300  # texture resolution: ~90 px across an upper arm, crisp at 1080p


class SpriteCharacter:
    """The cut-out figure; `root` is where its hips joint sits (move and scale that)."""

    def __init__(
        self,
        parent: NodePath | None = None,
        proportions: Mapping[str, float] | None = None,
        pixels_per_metre: int = PIXELS_PER_METRE,
    ) -> None:
        p = mannequin_proportions(proportions)
        self.root = NodePath("sprite") if parent is None else parent.attach_new_node("sprite")
        self.root.set_depth_write(False)
        self.root.set_depth_test(False)
        self.root.set_transparency(TransparencyAttrib.M_alpha)
        self.bones = SPRITE_BONES
        self._length, start, shapes = _layout(p)
        self._local: dict[str, float] = {}
        self._joint: dict[str, NodePath] = {}
        for bone, parent_bone in SPRITE_PARENTS.items():
            holder = self.root if parent_bone is None else self._joint[parent_bone]
            node = holder.attach_new_node(bone)
            up = REST_ANGLES[parent_bone] if parent_bone else 0.0
            offset = start[bone] - (start[parent_bone] if parent_bone else 0.0)
            x, z = _rotate(offset, -up)
            node.set_pos(x, 0.0, z)
            self._joint[bone] = node
            self._add_quad(node, bone, shapes[bone], pixels_per_metre)
        self.reset()

    # -- pose -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the rest pose."""
        self.set_pose(REST_ANGLES)

    def set_pose(self, angles: Mapping[str, float]) -> None:
        """Set several bones' image-plane directions at once (parents are applied first)."""
        unknown = set(angles) - set(self.bones)
        if unknown:
            raise KeyError(f"no sprite bones {sorted(unknown)}; bones: {self.bones}")
        for bone in self.bones:
            if bone in angles:
                self.set_angle(bone, angles[bone])

    def set_angle(self, bone: str, degrees: float) -> None:
        """Point `bone` in this image-plane direction, whatever its parent's angle is now."""
        parent = SPRITE_PARENTS[bone]
        self.set_local_angle(bone, degrees - (self.angle(parent) if parent else 0.0))

    def set_local_angle(self, bone: str, degrees: float) -> None:
        """Set `bone`'s angle relative to its parent's direction (the hips: to the root)."""
        self._local[bone] = float(degrees)
        self._joint[bone].set_r(-float(degrees))  # Panda's roll turns clockwise seen from -Y

    def angle(self, bone: str) -> float:
        """The bone's current image-plane direction, degrees in (-180, 180]."""
        total = 0.0
        while bone is not None:
            total += self._local[bone]
            bone = SPRITE_PARENTS[bone]
        wrapped = (total + 180.0) % 360.0 - 180.0
        return 180.0 if wrapped == -180.0 else float(wrapped)

    # -- placement ------------------------------------------------------------------------
    def set_root(self, x: float, z: float, scale: float | None = None) -> None:
        """Put the hips joint at (x, z) in the parent's XZ plane, optionally rescaling."""
        self.root.set_pos(x, self.root.get_y(), z)
        if scale is not None:
            self.set_scale(scale)

    def set_scale(self, scale: float) -> None:
        """Uniform size factor (1 = the proportions' metres in parent units)."""
        self.root.set_scale(scale)

    def length(self, bone: str) -> float:
        """Joint-to-next-joint length of a bone at scale 1."""
        return self._length[bone]

    def joint_position(self, bone: str, other: NodePath | None = None) -> np.ndarray:
        """(x, z) of the bone's joint in `other`'s space (default: the root's parent)."""
        other = other if other is not None else self.root.get_parent()
        pos = self._joint[bone].get_pos(other)
        return np.array([pos.x, pos.z])

    def tip_position(self, bone: str, other: NodePath | None = None) -> np.ndarray:
        """(x, z) of the far end of the bone in `other`'s space (default: the root's parent)."""
        other = other if other is not None else self.root.get_parent()
        pos = other.get_relative_point(self._joint[bone], (self._length[bone], 0.0, 0.0))
        return np.array([pos.x, pos.z])

    def close(self) -> None:
        """Remove the figure from the scene graph."""
        self.root.remove_node()

    # -- drawing --------------------------------------------------------------------------
    def _add_quad(self, node: NodePath, bone: str, shape: dict, ppm: int) -> None:
        image, (x0, x1, z0, z1) = _cutout(shape, ppm)
        texture = Texture(f"sprite-{bone}")
        texture.setup_2d_texture(image.shape[1], image.shape[0], Texture.T_unsigned_byte,
                                 Texture.F_rgba8)  # fmt: skip
        texture.set_ram_image_as(np.ascontiguousarray(image[::-1]).tobytes(), "RGBA")
        texture.set_wrap_u(Texture.WM_clamp)
        texture.set_wrap_v(Texture.WM_clamp)
        card = CardMaker(f"{bone}-card")
        card.set_frame(x0, x1, z0, z1)
        quad = node.attach_new_node(card.generate())
        quad.set_texture(texture)
        layer = next(v for k, v in _LAYER.items() if bone.endswith(k) or bone == k)
        quad.set_bin("fixed", layer)


def _layout(p: Mapping[str, float]) -> tuple[dict[str, float], dict, dict]:
    """Bone lengths, joint positions at rest (hips joint at 0) and each bone's cut-out shape."""
    neck = p["hips"] + p["spine"] + p["chest"]
    length = {
        "hips": p["hips"], "spine": p["spine"] + p["chest"], "head": p["neck"] + p["head"],
        "UpperArm": p["upper_arm"], "LowerArm": p["lower_arm"], "Hand": p["hand"] * 0.8,
        "UpperLeg": p["upper_leg"], "LowerLeg": p["lower_leg"], "Foot": p["foot"] * 0.55,
    }  # fmt: skip
    start = {"hips": np.zeros(2), "spine": np.array([0.0, p["hips"]]),
             "head": np.array([0.0, neck])}  # fmt: skip
    lengths = {b: length[b] for b in ("hips", "spine", "head")}
    sw, hw = p["shoulder_width"], p["hip_width"]
    shapes = {  # r0/r1: half widths at the joint and at the end; extra: head, outline colour
        "hips": {"length": p["hips"] + 0.02, "r0": 0.5 * hw + 0.07, "r1": 0.5 * hw + 0.055,
                 "start": -(p["leg_drop"] + 0.06), "corner": 0.06, "colour": SHORTS},
        "spine": {"length": length["spine"], "r0": 0.5 * hw + 0.045, "r1": 0.5 * sw + 0.03,
                  "start": -0.03, "corner": 0.07, "colour": SHIRT},
        "head": {"length": p["neck"], "r0": 0.045, "r1": 0.045, "colour": SKIN,
                 "head": p["head"]},
    }  # fmt: skip
    arm = {"UpperArm": (0.055, 0.045, SHIRT), "LowerArm": (0.045, 0.035, SKIN),
           "Hand": (0.035, 0.045, SKIN), "UpperLeg": (0.085, 0.06, SHORTS),
           "LowerLeg": (0.06, 0.042, SKIN), "Foot": (0.045, 0.05, SHOES)}  # fmt: skip
    for side, s in (("left", 1.0), ("right", -1.0)):
        chains = (("UpperArm", "LowerArm", "Hand"), ("UpperLeg", "LowerLeg", "Foot"))
        origins = (np.array([s * sw / 2, neck - p["shoulder_drop"]]),
                   np.array([s * hw / 2, -p["leg_drop"]]))  # fmt: skip
        for chain, at in zip(chains, origins, strict=True):
            for part in chain:
                bone = side + part
                start[bone], lengths[bone] = at, length[part]
                r0, r1, colour = arm[part]
                shapes[bone] = {
                    "length": length[part],
                    "r0": r0,
                    "r1": r1,
                    "colour": colour,
                    "accent": ACCENT[side[0]] if part.startswith("Lower") else None,
                }
                direction = np.radians(REST_ANGLES[bone])
                at = at + length[part] * np.array([np.cos(direction), np.sin(direction)])
    return lengths, start, shapes


def _cutout(shape: dict, ppm: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """RGBA image (top row first) of a rounded, outlined, tapered bar; and its frame."""
    length, r0, r1 = shape["length"], shape["r0"], shape["r1"]
    head = shape.get("head", 0.0)
    a = shape.get("start", 0.0)  # where the bar begins (the pelvis reaches below its joint)
    pad = 2.0 / ppm
    x0, x1 = a - (r0 if "corner" not in shape else 0) - pad, length + max(r1, head) + pad
    zr = max(r0, r1, 0.5 * head) + pad
    w, h = int(np.ceil((x1 - x0) * ppm)), int(np.ceil(2 * zr * ppm))
    xs = x0 + (np.arange(w) + 0.5) / ppm
    zs = zr - (np.arange(h) + 0.5) / ppm  # top row first
    x, z = np.meshgrid(xs, zs)
    t = np.clip((x - a) / (length - a), 0.0, 1.0)
    radius = r0 + (r1 - r0) * t
    corner = shape.get("corner")
    if corner is None:  # a tapered capsule: signed distance to the bar
        dist = np.hypot(x - a - t * (length - a), z) - radius
    else:  # a tapered box with rounded corners (torso, pelvis)
        qx = np.maximum(a - x, x - length) + corner
        qz = np.abs(z) - radius + corner
        outside = np.hypot(np.maximum(qx, 0), np.maximum(qz, 0))
        dist = outside + np.minimum(np.maximum(qx, qz), 0) - corner
    face = None
    if head:
        centre = length + 0.5 * head
        face = np.hypot(x - centre, z * 1.1) - 0.5 * head
        dist = np.minimum(dist, face)
    colour = np.array(shape["colour"]) * (0.92 + 0.12 * z / zr)[..., None]  # light from above
    edge = dist > -2.5 / ppm  # a 2.5 px dark outline reads as a paper cut-out edge
    colour[edge] = np.array(shape["colour"]) * 0.45
    if face is not None:
        hair = (face < 0) & (x > length + 0.75 * head)
        colour[hair & ~edge] = HAIR
        for side in (-1, 1):  # eyes
            eye = np.hypot(x - (length + 0.55 * head), z - side * 0.18 * head) < 0.05 * head
            colour[eye] = (0.1, 0.1, 0.12)
    if shape.get("accent") is not None:  # a coloured joint cap marks left/right limbs
        cap = (np.hypot(x, z) < 0.7 * r0) & ~edge
        colour[cap] = shape["accent"]
    alpha = np.clip(0.5 - dist * ppm, 0.0, 1.0)
    rgba = np.concatenate([colour, alpha[..., None]], axis=-1)
    return (np.clip(rgba, 0, 1) * 255 + 0.5).astype(np.uint8), (x0, x1, -zr, zr)


def _rotate(v: np.ndarray, degrees: float) -> tuple[float, float]:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    return float(c * v[0] - s * v[1]), float(s * v[0] + c * v[1])
