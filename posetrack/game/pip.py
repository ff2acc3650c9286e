"""Picture-in-picture: the camera frame with the tracked skeleton, as a texture in a corner."""

from dataclasses import replace

import cv2
import numpy as np
from panda3d.core import CardMaker, NodePath, SamplerState, TextNode, Texture

from posetrack.cli.overlay import draw_poses
from posetrack.components import PoseResult

PIP_WIDTH_PX = 384  # texture width: the picture is ~0.22 of a 1280-px screen, so ~1:1 texels


def pip_image(frame_bgr: np.ndarray, result: PoseResult | None, mirror: bool) -> np.ndarray:
    """The frame shrunk to PIP_WIDTH_PX wide with the poses drawn (BGR), mirrored when the
    player sees themself as in a mirror. Shrinking first keeps drawing cheap on 1080p frames."""
    h, w = frame_bgr.shape[:2]
    scale = PIP_WIDTH_PX / w
    small = cv2.resize(frame_bgr, (PIP_WIDTH_PX, max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)  # fmt: skip
    if result is not None and result.poses:
        poses = []
        for pose in result.poses:
            keypoints = np.array(pose.keypoints, dtype=np.float64)
            keypoints[:, :2] *= scale
            poses.append(replace(pose, keypoints=keypoints))
        # 0.3: the PiP shows what the model saw, a bit more than the characters trust (0.5)
        small = draw_poses(small, replace(result, poses=poses), min_confidence=0.3)
    return small[:, ::-1] if mirror else small


class PictureInPicture:
    """A framed card on `parent` (aspect2d) showing `pip_image` frames; `update` uploads one."""

    def __init__(self, parent: NodePath, width: float, top_right: tuple[float, float]) -> None:
        self.width = width
        self.root = parent.attach_new_node("pip")
        self.root.set_pos(top_right[0], 0, top_right[1])
        self.texture = Texture("pip")
        self.texture.set_minfilter(SamplerState.FT_linear)
        self.texture.set_magfilter(SamplerState.FT_linear)
        self.frames = 0  # frames uploaded
        self._shape: tuple[int, int] | None = None
        self._card: NodePath | None = None
        self._border: NodePath | None = None
        label = TextNode("pip-label")
        label.set_text("camera")
        label.set_text_color(0.85, 0.88, 0.95, 1)
        label.set_align(TextNode.A_right)
        self._label = self.root.attach_new_node(label)
        self._label.set_scale(0.035)
        self._label.set_pos(0, 0, 0.012)

    def _layout(self, w: int, h: int) -> None:
        height = self.width * h / w
        for node in (self._card, self._border):
            if node is not None:
                node.remove_node()
        edge = 0.006
        cm = CardMaker("pip-border")
        cm.set_frame(-self.width - edge, edge, -height - edge, edge)
        self._border = self.root.attach_new_node(cm.generate())
        self._border.set_color(0.85, 0.88, 0.95, 1)
        cm = CardMaker("pip-card")
        cm.set_frame(-self.width, 0, -height, 0)
        self._card = self.root.attach_new_node(cm.generate())
        self._card.set_texture(self.texture)
        self._shape = (h, w)

    def update(self, image_bgr: np.ndarray) -> None:
        """Show this BGR image (any size; the card keeps its aspect)."""
        h, w = image_bgr.shape[:2]
        if self.texture.get_x_size() != w or self.texture.get_y_size() != h:
            self.texture.setup_2d_texture(w, h, Texture.T_unsigned_byte, Texture.F_rgb)
        if self._shape != (h, w):
            self._layout(w, h)
        # Panda's RAM images are bottom-up BGR: flip rows, keep the channel order
        self.texture.set_ram_image(np.ascontiguousarray(image_bgr[::-1]).tobytes())
        self.frames += 1

    def set_width(self, width: float) -> None:
        """The card's width in its parent's units (the scene's Hud.pip_size, converted)."""
        if width != self.width:
            self.width = width
            if self._shape is not None:
                self._layout(self._shape[1], self._shape[0])

    def show(self, visible: bool) -> None:
        self.root.show() if visible else self.root.hide()
