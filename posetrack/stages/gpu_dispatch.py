"""Compute-shader plumbing shared by the GPU decoders: float textures, and `Dispatch`, which
works around Panda 1.10 skipping re-dispatches of an unchanged state. Shaders are loaded and
dispatched through their GpuContext (gpu_context.py), the one way every GPU stage does it."""

from panda3d.core import (
    ComputeNode,
    NodePath,
    SamplerState,
    Shader,
    ShaderAttrib,
    Texture,
)

from posetrack.stages.gpu_context import GpuContext


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
        context: GpuContext,
        name: str,
        shader: Shader,
        inputs: dict[str, object],
        result: Texture,
        result_read: bool = False,
    ) -> None:
        self.context = context
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

    def run(self, groups: int) -> None:
        self.context.dispatch(self.attribs[self.calls % 2], (groups, 1, 1))
        self.calls += 1
