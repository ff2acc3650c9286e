"""The GL context GPU stages run their compute shaders on.

Either borrowed from a host game (`GpuContext.from_showbase(base)`: its engine and its main
window's GSG, never closed here) or made on its own (`GpuContext.headless()`: a pipe, engine
and 1 x 1 offscreen buffer of its own, through EGL with no display server; Mesa llvmpipe where
there is no GPU). Shaders are plain files in posetrack/shaders/, `#define`s injected after the
`#version` line.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from panda3d.core import (
    ConfigPage,
    FrameBufferProperties,
    GraphicsEngine,
    GraphicsOutput,
    GraphicsPipe,
    GraphicsPipeSelection,
    GraphicsStateGuardian,
    NodePath,
    Shader,
    ShaderAttrib,
    WindowProperties,
    load_prc_file_data,
    unload_prc_file,
)

from posetrack.errors import PosetrackError

SHADER_DIR = Path(__file__).resolve().parent.parent / "shaders"

# Debian/Ubuntu packages that give EGL and a software GL renderer on a headless machine.
EGL_PACKAGES = "libegl1 libegl-mesa0 libgl1-mesa-dri libgl1"

# PRC for an offscreen GL context through EGL, no display server. gl-version stays
# unset on purpose: a core profile breaks Panda's default shaders in a host that shares it.
HEADLESS_PRC = """
load-display p3headlessgl
window-type offscreen
audio-library-name null
notify-level-device fatal
"""

# Renderer-string fragments of Mesa's CPU rasterisers (no GPU behind the context).
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")


class GpuContext:
    """A GL graphics engine + GSG that can compile and dispatch compute shaders.

    Construct with `from_showbase` or `headless`; `close()` releases what this object made
    (nothing of a borrowed ShowBase).
    """

    def __init__(
        self,
        engine: GraphicsEngine,
        gsg: GraphicsStateGuardian,
        *,
        owned_buffer: GraphicsOutput | None = None,
        prc_page: ConfigPage | None = None,
    ) -> None:
        self._engine: GraphicsEngine | None = engine
        self._gsg: GraphicsStateGuardian | None = gsg
        self._owned_buffer = owned_buffer
        self._prc_page = prc_page
        self.renderer = f"{gsg.driver_vendor} / {gsg.driver_renderer} / GL {gsg.driver_version}"
        if not gsg.supports_compute_shaders:
            self.close()
            raise PosetrackError(f"the GL context has no compute shaders ({self.renderer})")

    @classmethod
    def from_showbase(cls, base: object) -> "GpuContext":
        """Borrow a running ShowBase's engine and main-window GSG (not closed by us)."""
        win = getattr(base, "win", None)
        gsg = win.get_gsg() if win is not None else None
        if gsg is None or not gsg.is_valid():
            raise PosetrackError("the ShowBase has no open window with a valid GL context")
        return cls(base.graphicsEngine, gsg)

    @classmethod
    def headless(cls, load_display: str = "p3headlessgl") -> "GpuContext":
        """Make a context of our own: pipe, engine, 1 x 1 offscreen buffer, no ShowBase.

        For programs without a Panda3D window of their own (the CLI). A game lends its own with
        `from_showbase`: Panda's direct GL calls (prepare, dispatch, extract) assume the last
        current context is theirs, so a second engine in the process leaves the game's GSG
        on the wrong context until its next render_frame (measured in this project's tests).

        `load_display` names the Panda display module (p3headlessgl: EGL, no display server).
        Raises PosetrackError naming the packages to install when no GL context can be made.
        """
        # Mesa's EGL must use the surfaceless platform (no X11/Wayland) unless told otherwise
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        prc = HEADLESS_PRC.replace("p3headlessgl", load_display)
        page = load_prc_file_data("posetrack-gpu-headless", prc)
        engine: GraphicsEngine | None = None
        try:
            pipe = GraphicsPipeSelection.get_global_ptr().make_module_pipe(load_display)
            if pipe is None or not pipe.is_valid():
                raise _no_context(f"display module {load_display!r} gave no usable pipe")
            engine = GraphicsEngine(pipe)
            fb = FrameBufferProperties()
            fb.set_rgba_bits(8, 8, 8, 8)
            buffer = engine.make_output(
                pipe, "posetrack-compute", 0, fb, WindowProperties.size(1, 1),
                GraphicsPipe.BF_refuse_window,
            )  # fmt: skip
            if buffer is None:
                raise _no_context("no offscreen buffer could be opened")
            engine.open_windows()
            gsg = buffer.get_gsg()
            if gsg is None or not gsg.is_valid():
                raise _no_context("no graphics state guardian")
        except BaseException:
            if engine is not None:
                engine.remove_all_windows()
            unload_prc_file(page)
            raise
        return cls(engine, gsg, owned_buffer=buffer, prc_page=page)

    @property
    def engine(self) -> GraphicsEngine:
        """The graphics engine (raises after close())."""
        if self._engine is None:
            raise PosetrackError("the GPU context is closed")
        return self._engine

    @property
    def gsg(self) -> GraphicsStateGuardian:
        """The GSG compute shaders run on (raises after close())."""
        if self._gsg is None:
            raise PosetrackError("the GPU context is closed")
        return self._gsg

    @property
    def is_software(self) -> bool:
        """True on a CPU rasteriser (llvmpipe, softpipe, swrast): no GPU behind the context."""
        return any(name in self.renderer.lower() for name in SOFTWARE_RENDERERS)

    @property
    def closed(self) -> bool:
        return self._engine is None

    @property
    def alive(self) -> bool:
        """False once the context is gone: closed here, or every window sharing the GSG a host
        lent was closed (Panda keeps that GSG object "valid", but a dispatch on it then reads
        freed GL state: measured, it logs garbage wrap modes and trips an assertion)."""
        if self._engine is None or self._gsg is None or not self._gsg.is_valid():
            return False
        if self._owned_buffer is not None:
            return True
        return any(window.get_gsg() == self._gsg for window in self._engine.windows)

    def load_compute(self, name: str, defines: Mapping[str, object] | None = None) -> Shader:
        """Compile posetrack/shaders/NAME with `#define KEY VALUE` lines after `#version`.

        Compiled on this context now, so a GLSL error raises here (with the driver's log on
        stderr) instead of a dispatch that silently does nothing. A define whose value is None
        is a bare flag (`#define KEY`).
        """
        source = inject_defines((SHADER_DIR / name).read_text(), defines or {})
        shader = Shader.make_compute(Shader.SL_GLSL, source)
        gsg = self.gsg
        # Panda only logs GLSL errors, and a failed shader's dispatch trips an assertion deep in
        # the GL code: prepare now and say so
        if (
            shader is None
            or shader.prepare_now(gsg.prepared_objects, gsg) is None
            or shader.get_error_flag()
        ):
            raise PosetrackError(
                f"compute shader {name} failed to build on {self.renderer} (the GLSL compiler's "
                "message is on the log above)"
            )
        return shader

    def dispatch(
        self, shader: ShaderAttrib | NodePath, groups: tuple[int, int, int] | tuple[int, int]
    ) -> None:
        """Run a compute shader (a ShaderAttrib, or a NodePath carrying one) over `groups`."""
        attrib = shader.get_attrib(ShaderAttrib) if isinstance(shader, NodePath) else shader
        if attrib is None:
            raise PosetrackError("dispatch needs a node with a shader set on it")
        size = tuple(groups) + (1,) * (3 - len(groups))
        self.engine.dispatch_compute(size, attrib, self.gsg)

    def close(self) -> None:
        """Release what this context made (its buffer and PRC page); idempotent."""
        if self._owned_buffer is not None and self._engine is not None:
            self._engine.remove_all_windows()
        if self._prc_page is not None:
            unload_prc_file(self._prc_page)
        self._owned_buffer = None
        self._prc_page = None
        self._engine = None
        self._gsg = None


def inject_defines(source: str, defines: Mapping[str, object]) -> str:
    """Insert `#define KEY VALUE` lines right after the `#version` line (GLSL wants it first).

    A `#line` directive follows them, so compiler messages keep the file's own line numbers.
    """
    lines = source.splitlines(keepends=True)
    at = next((i + 1 for i, line in enumerate(lines) if line.lstrip().startswith("#version")), 0)
    block = "".join(
        f"#define {key}\n" if value is None else f"#define {key} {value}\n"
        for key, value in defines.items()
    )
    return "".join(lines[:at]) + block + f"#line {at + 1}\n" + "".join(lines[at:])


def _no_context(reason: str) -> PosetrackError:
    return PosetrackError(
        f"could not create an offscreen OpenGL context through EGL ({reason}). "
        f"On Debian/Ubuntu install: apt-get install -y {EGL_PACKAGES}"
    )
