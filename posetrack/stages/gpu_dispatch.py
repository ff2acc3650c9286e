"""Compute-shader plumbing shared by the GPU decoders: shader loading, float textures, and
`_Dispatch`, which works around Panda 1.10 skipping re-dispatches of an unchanged state."""

from pathlib import Path

from panda3d.core import (
    ComputeNode,
    GraphicsEngine,
    GraphicsStateGuardian,
    NodePath,
    SamplerState,
    Shader,
    ShaderAttrib,
    Texture,
)

from posetrack.errors import PosetrackError
from posetrack.stages.gpu_context import inject_defines

SHADER_DIR = Path(__file__).resolve().parent.parent / "shaders"


def load_compute_shader(name: str, defines: dict[str, int | None]) -> Shader:
    """posetrack/shaders/`name` with `#define NAME value` lines injected after `#version`."""
    flags = {key: "" if value is None else value for key, value in defines.items()}
    source = inject_defines((SHADER_DIR / name).read_text(), flags)
    shader = Shader.make_compute(Shader.SL_GLSL, source)
    if shader is None:
        raise PosetrackError(f"{name}: Panda3D could not make a compute shader from it")
    return shader


def float_texture(name: str, width: int, height: int, fmt: int) -> Texture:
    texture = Texture(name)
    texture.setup_2d_texture(width, height, Texture.T_float, fmt)
    # texelFetch ignores filtering, but a mipmap filter would make Panda build mipmaps
    texture.set_minfilter(SamplerState.FT_nearest)
    texture.set_magfilter(SamplerState.FT_nearest)
    return texture


class Dispatch:
    """One compute shader with its inputs, dispatched as two alternating ShaderAttribs.

    Panda 1.10 skips re-applying a state equal to the last one applied, and with it the upload
    of modified textures and the re-reading of PTA uniforms (measured: the second dispatch of
    the same attrib ran on stale inputs). Two attribs that differ in an unused input make each
    call a state change; uniforms are PTAs changed in place, so nothing is rebuilt per call.
    """

    def __init__(
        self,
        gsg: GraphicsStateGuardian,
        name: str,
        shader: Shader,
        inputs: dict[str, object],
        result: Texture,
        result_read: bool = False,
    ) -> None:
        # Compile now: Panda only logs GLSL errors, and a failed shader's dispatch trips an
        # assertion deep in the GL code
        if shader.prepare_now(gsg.prepared_objects, gsg) is None or shader.get_error_flag():
            raise PosetrackError(
                f"the {name} compute shader failed to build on {gsg.driver_renderer} "
                "(the GLSL compiler's message is on the log above)"
            )
        node = NodePath(ComputeNode(name))
        node.set_shader(shader)
        for key, value in inputs.items():
            node.set_shader_input(key, value)
        # level 0 of `result` as an image: write-only, or read-write for atomics
        node.set_shader_input("result", result, result_read, True, -1, 0)
        self.attribs = []
        for toggle in (0, 1):
            node.set_shader_input("posetrack_state_toggle", toggle)
            self.attribs.append(node.get_attrib(ShaderAttrib))
        self.calls = 0

    def run(self, engine: GraphicsEngine, gsg: GraphicsStateGuardian, groups: int) -> None:
        engine.dispatch_compute((groups, 1, 1), self.attribs[self.calls % 2], gsg)
        self.calls += 1
