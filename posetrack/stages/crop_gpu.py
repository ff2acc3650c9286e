"""Model-input preprocessing on the GPU: rotated ROI crop, bilinear resize, RGB normalisation.

The frame goes up once per frame as a texture; each crop is one compute dispatch
(posetrack/shaders/crop.comp.glsl) that writes the model's input tensor into a float image, read
back with extract_texture_data (Panda 1.10.16 cannot read a ShaderBuffer back). The answer is
the CPU path's (posetrack.stages.geometry.warp_crop, i.e. cv2.warpAffine INTER_LINEAR on uint8, then
BGR -> RGB and scaling) to the last uint8 level: see the shader's header for the arithmetic.

That arithmetic is OpenCV 5.x's float32 warpAffine kernel. OpenCV 4.x (4.10 to 4.13 checked)
still uses 1/32-quantised fixed-point weights there, which differ from it by up to 3 uint8
levels: with a 4.x cv2 the CPU reference moves and the parity tests say so.
"""

import numpy as np
from panda3d.core import ComputeNode, LVecBase3f, NodePath, SamplerState, Texture

from posetrack.errors import PosetrackError
from posetrack.stages.crop_cpu import VALUE_RANGES
from posetrack.stages.gpu_context import GpuContext

CROP_SHADER = "crop.comp.glsl"
WORKGROUP = 8  # local_size_x / local_size_y in crop.comp.glsl
# Bytes of uniforms a crop sends: map_x and map_y, two vec3 of float32.
UNIFORM_BYTES = 2 * 3 * 4
LAYOUTS = ("NHWC", "NCHW")
BORDERS = ("zero", "replicate")
# value_range -> (scale, offset) as the CPU path computes them in float32:
# (0, 1): u8 * float32(1 / 255) (preprocess_landmarks); (-1, 1): u8 * float32(2 / 255) - 1
# (preprocess_detector).


class GpuCropper:
    """Crops affine-mapped regions of an uploaded BGR uint8 frame into model input tensors.

    `upload(frame)` once per frame, then `crop(source_to_crop=...)` (or `crop_to_source=...`)
    per region: float32 [1, H, W, 3] (NHWC) or [1, 3, H, W] (NCHW), RGB in `value_range`.
    `bytes_uploaded` / `bytes_read_back` count the host <-> GPU traffic of the latest call;
    `total_bytes_uploaded` / `total_bytes_read_back` since construction. `close()` frees the
    textures (the context stays open: it is the caller's).
    """

    def __init__(
        self,
        context: GpuContext,
        out_w: int,
        out_h: int,
        layout: str = "NHWC",
        value_range: tuple[float, float] = (0.0, 1.0),
        border: str = "zero",
    ) -> None:
        if layout not in LAYOUTS:
            raise PosetrackError(f"layout must be one of {LAYOUTS}, not {layout!r}")
        if border not in BORDERS:
            raise PosetrackError(f"border must be one of {BORDERS}, not {border!r}")
        key = (float(value_range[0]), float(value_range[1]))
        if key not in VALUE_RANGES:
            raise PosetrackError(f"value_range must be one of {list(VALUE_RANGES)}, not {key}")
        scale, offset = VALUE_RANGES[key]
        self.context = context
        self.out_w, self.out_h, self.layout = int(out_w), int(out_h), layout
        shader = context.load_compute(
            CROP_SHADER,
            {
                "OUT_W": self.out_w,
                "OUT_H": self.out_h,
                "LAYOUT_NCHW": int(layout == "NCHW"),
                "BORDER_REPLICATE": int(border == "replicate"),
                "VALUE_SCALE": _glsl_float(scale),
                "VALUE_OFFSET": _glsl_float(offset),
            },
        )
        self._frame_tex: Texture | None = _frame_texture()
        self._out_tex: Texture | None = Texture("posetrack-crop-tensor")
        tex_w, tex_h = (
            (self.out_w, 3 * self.out_h) if layout == "NCHW" else (3 * self.out_w, self.out_h)
        )
        self._out_tex.setup_2d_texture(tex_w, tex_h, Texture.T_float, Texture.F_r32)
        self._node: NodePath | None = NodePath(ComputeNode("posetrack-crop"))
        self._node.set_shader(shader)
        self._node.set_shader_input("frame", self._frame_tex)
        self._node.set_shader_input("out_tensor", self._out_tex, False, True, -1, 0)
        self._groups = (-(-self.out_w // WORKGROUP), -(-self.out_h // WORKGROUP), 1)
        self._frame_shape: tuple[int, int] | None = None
        self._uploads = 0
        self.bytes_uploaded = 0
        self.bytes_read_back = 0
        self.total_bytes_uploaded = 0
        self.total_bytes_read_back = 0

    def upload(self, frame_bgr: np.ndarray) -> None:
        """Send this frame to the GPU (H x W x 3 uint8 BGR, as cv2 reads it); once per frame.

        The texture object is kept; only its RAM image changes (re-set up when the size does).
        Panda keeps RGB RAM images as BGR, so the frame's bytes go in as they are, top row first
        (texel row y = frame row y).
        """
        texture = self._live(self._frame_tex)
        frame = np.ascontiguousarray(frame_bgr)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise PosetrackError(
                f"frames must be H x W x 3 uint8 BGR, got {frame.shape} {frame.dtype}"
            )
        height, width = frame.shape[:2]
        if self._frame_shape != (height, width):
            texture.setup_2d_texture(width, height, Texture.T_unsigned_byte, Texture.F_rgb8)
            self._frame_shape = (height, width)
        # copy into Panda's own buffer: no new PTA per frame (the heatmap decoder measured
        # 0.02 ms against 0.3 ms for set_ram_image on 640 KB)
        np.frombuffer(memoryview(texture.modify_ram_image()), np.uint8)[:] = frame.reshape(-1)
        # Panda uploads a modified texture when the GSG applies a new state; a dispatch with
        # the same state as the last one (same crop map) would skip that and read the old
        # frame. A per-upload input (the shader ignores it) makes each frame's state new.
        self._uploads += 1
        self._live(self._node).set_shader_input("upload_serial", self._uploads)
        self._count(uploaded=frame.nbytes, read_back=0)

    def crop(
        self,
        source_to_crop: np.ndarray | None = None,
        *,
        crop_to_source: np.ndarray | None = None,
    ) -> np.ndarray:
        """The model input for one affine-mapped region of the uploaded frame.

        Give exactly one 2 x 3 map: `source_to_crop` (what cv2.warpAffine takes, e.g.
        geometry.crop_matrix / letterbox_matrix: inverted here exactly as OpenCV does) or
        `crop_to_source` (used as it is).
        """
        node = self._live(self._node)
        if self._frame_shape is None:
            raise PosetrackError("upload() a frame before crop()")
        if (source_to_crop is None) == (crop_to_source is None):
            raise PosetrackError("give exactly one of source_to_crop and crop_to_source")
        if crop_to_source is None:
            inverse = opencv_invert_affine(np.asarray(source_to_crop, dtype=np.float64))
        else:
            inverse = np.asarray(crop_to_source, dtype=np.float64).reshape(2, 3)
        m = inverse.astype(np.float32)  # OpenCV's kernel rounds the map to float32 too
        node.set_shader_input("map_x", LVecBase3f(*(float(v) for v in m[0])))
        node.set_shader_input("map_y", LVecBase3f(*(float(v) for v in m[1])))
        self.context.dispatch(node, self._groups)
        texture = self._live(self._out_tex)
        if not self.context.engine.extract_texture_data(texture, self.context.gsg):
            raise PosetrackError("could not read the crop back from the GPU")
        raw = np.frombuffer(memoryview(texture.get_ram_image()), dtype=np.float32).copy()
        # drop the read-back copy, or Panda would upload it again at the next bind
        texture.clear_ram_image()
        self._count(uploaded=UNIFORM_BYTES, read_back=raw.nbytes)
        if self.layout == "NCHW":
            return raw.reshape(1, 3, self.out_h, self.out_w)
        return raw.reshape(1, self.out_h, self.out_w, 3)

    def close(self) -> None:
        """Free the frame and tensor textures on the GPU; idempotent."""
        for texture in (self._frame_tex, self._out_tex):
            if texture is not None:
                texture.release_all()
                texture.clear_ram_image()
        self._frame_tex = self._out_tex = None
        self._node = None

    @property
    def closed(self) -> bool:
        return self._node is None

    def _count(self, uploaded: int, read_back: int) -> None:
        self.bytes_uploaded, self.bytes_read_back = uploaded, read_back
        self.total_bytes_uploaded += uploaded
        self.total_bytes_read_back += read_back

    def _live(self, thing):  # noqa: ANN001, ANN202 - a texture or node, or None after close()
        if thing is None:
            raise PosetrackError("the GPU cropper is closed")
        return thing


def opencv_invert_affine(m: np.ndarray) -> np.ndarray:
    """Invert a 2 x 3 affine map with the float64 formula cv2.warpAffine applies to its matrix.

    Same operations in the same order, so the float32-rounded result matches OpenCV's bit for
    bit (np.linalg.inv can differ in the last place, which can move a rounding tie).
    """
    m = np.asarray(m, dtype=np.float64).reshape(6)
    det = m[0] * m[4] - m[1] * m[3]
    d = 1.0 / det if det != 0 else 0.0
    a11, a22 = m[4] * d, m[0] * d
    a12, a21 = m[1] * -d, m[3] * -d
    b1 = -a11 * m[2] - a12 * m[5]
    b2 = -a21 * m[2] - a22 * m[5]
    return np.array([[a11, a12, b1], [a21, a22, b2]], dtype=np.float64)


def _frame_texture() -> Texture:
    texture = Texture("posetrack-frame")
    # texelFetch reads exact texels: no filtering, no mipmaps, no compression
    sampler = SamplerState()
    sampler.set_minfilter(SamplerState.FT_nearest)
    sampler.set_magfilter(SamplerState.FT_nearest)
    sampler.set_wrap_u(SamplerState.WM_clamp)
    sampler.set_wrap_v(SamplerState.WM_clamp)
    texture.set_default_sampler(sampler)
    texture.set_compression(Texture.CM_off)
    return texture


def _glsl_float(value: np.float32) -> str:
    """A float32 as a bit-exact GLSL expression (a decimal literal could round differently)."""
    bits = int(np.float32(value).view(np.uint32))
    return f"uintBitsToFloat({bits:#010x}u)"
