"""The headless ShowBase really renders, and GLSL compute shaders really run on it.

Both tests read pixels back from the GPU (render-to-RAM, extract_texture_data) and compare them
with what was drawn, so a blank or black context cannot pass.
"""

import numpy as np
from direct.showbase.ShowBase import ShowBase
from panda3d.core import (
    Camera,
    CardMaker,
    ComputeNode,
    FrameBufferProperties,
    GraphicsOutput,
    GraphicsPipe,
    NodePath,
    OrthographicLens,
    Shader,
    ShaderAttrib,
    Texture,
    Vec4,
    WindowProperties,
)

SIDE = 32  # small offscreen buffer: enough pixels to locate the card, cheap on llvmpipe
TILE = 8  # compute-shader output side; one work group of 8x8 invocations covers it

_PATTERN_SHADER = """#version 430
layout(local_size_x = 8, local_size_y = 8) in;
layout(rgba32f) uniform writeonly image2D out_image;
void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    imageStore(out_image, p, vec4(float(p.x), float(p.y), float(p.x * p.y), 0.5));
}
"""


def _renderer(base: ShowBase) -> str:
    gsg = base.win.gsg
    return f"{gsg.driver_vendor} / {gsg.driver_renderer} / GL {gsg.driver_version}"


def _bgra_to_rgba(texture: Texture, dtype: type) -> np.ndarray:
    """Panda keeps RGBA RAM images as BGRA, bottom row first; return RGBA, top row first."""
    raw = np.frombuffer(bytes(texture.get_ram_image()), dtype=dtype)
    image = raw.reshape(texture.get_y_size(), texture.get_x_size(), 4)[..., [2, 1, 0, 3]]
    return image[::-1]


def test_offscreen_buffer_renders_coloured_cards_readable_from_ram(showbase: ShowBase) -> None:
    """A red card on the left half and a green card on the right half come back as drawn."""
    base = showbase
    print(f"GL renderer: {_renderer(base)}")
    assert base.win.gsg.driver_renderer, "the GL context reports no renderer"

    texture = Texture("readback")
    fb = FrameBufferProperties()
    fb.set_rgba_bits(8, 8, 8, 8)
    buffer = base.graphicsEngine.make_output(
        base.pipe, "card-buffer", -10, fb, WindowProperties.size(SIDE, SIDE),
        GraphicsPipe.BF_refuse_window, base.win.gsg, base.win,
    )  # fmt: skip
    assert buffer is not None, "could not create an offscreen buffer"
    try:
        buffer.add_render_texture(texture, GraphicsOutput.RTM_copy_ram)
        buffer.set_clear_color(Vec4(0, 0, 0, 1))
        scene = NodePath("scene")
        lens = OrthographicLens()
        lens.set_film_size(2, 2)  # the view spans x, z in [-1, 1]
        camera = scene.attach_new_node(Camera("card-camera", lens))
        camera.set_pos(0, -5, 0)
        buffer.make_display_region().set_camera(camera)
        for name, frame, colour in (
            ("red", (-1, 0, -1, 1), (1, 0, 0, 1)),
            ("green", (0, 1, -1, 1), (0, 1, 0, 1)),
        ):
            card = CardMaker(name)
            card.set_frame(*frame)
            card.set_color(*colour)
            scene.attach_new_node(card.generate())

        base.graphicsEngine.render_frame()
        base.graphicsEngine.render_frame()  # the copy to RAM of the first frame lands here

        assert texture.has_ram_image(), "the rendered frame was not copied to RAM"
        image = _bgra_to_rgba(texture, np.uint8)
        assert image.shape == (SIDE, SIDE, 4)
        assert image[..., :3].std() > 0, "the rendered frame is uniform"
        quarter = SIDE // 4
        left = image[:, quarter].astype(int)  # a column well inside the red card
        right = image[:, SIDE - quarter].astype(int)  # a column well inside the green card
        np.testing.assert_allclose(left[:, :3], np.tile([255, 0, 0], (SIDE, 1)), atol=2)
        np.testing.assert_allclose(right[:, :3], np.tile([0, 255, 0], (SIDE, 1)), atol=2)
    finally:
        base.graphicsEngine.remove_window(buffer)


def test_compute_shader_writes_image_read_back_with_extract_texture_data(
    showbase: ShowBase,
) -> None:
    """A dispatched compute shader fills a float texture with (x, y, x*y, 0.5) per texel."""
    base = showbase
    print(f"GL renderer: {_renderer(base)}")
    assert base.win.gsg.supports_compute_shaders, f"no compute shaders on {_renderer(base)}"

    texture = Texture("pattern")
    texture.setup_2d_texture(TILE, TILE, Texture.T_float, Texture.F_rgba32)
    texture.set_clear_color(Vec4(-1, -1, -1, -1))  # anything the shader misses stays -1
    shader = Shader.make_compute(Shader.SL_GLSL, _PATTERN_SHADER)
    assert shader is not None, "the compute shader did not compile"
    node = NodePath(ComputeNode("pattern"))
    node.set_shader(shader)
    node.set_shader_input("out_image", texture, False, True, -1, 0)  # write-only image, level 0
    attrib = node.get_attrib(ShaderAttrib)

    base.graphicsEngine.dispatch_compute((1, 1, 1), attrib, base.win.gsg)
    assert base.graphicsEngine.extract_texture_data(texture, base.win.gsg)

    got = np.frombuffer(bytes(texture.get_ram_image()), dtype=np.float32)
    got = got.reshape(TILE, TILE, 4)[..., [2, 1, 0, 3]]  # BGRA -> RGBA; row index = y
    y, x = np.mgrid[0:TILE, 0:TILE].astype(np.float32)
    expected = np.stack([x, y, x * y, np.full_like(x, 0.5)], axis=-1)
    np.testing.assert_array_equal(got, expected)
