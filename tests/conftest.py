"""Shared fixtures: one offscreen Panda3D ShowBase for the session, and the sample footage.

The ShowBase renders through EGL with no display server (Mesa llvmpipe on a machine without a
GPU, the vendor driver where there is one). If no GL context can be made the fixture fails with
the Debian packages to install: a rendering test that skips would look like a pass.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from direct.showbase.ShowBase import ShowBase

# Mesa's EGL must pick the surfaceless platform (no X11, no Wayland) before panda3d loads
# libEGL; conftest is imported before any test module, so this runs first. setdefault: a
# machine that needs another platform can still say so.
os.environ.setdefault("EGL_PLATFORM", "surfaceless")

from posetrack.stages.gpu_context import EGL_PACKAGES, HEADLESS_PRC  # noqa: E402 - after the line above


@pytest.fixture(scope="session")
def showbase() -> Iterator["ShowBase"]:
    """An offscreen `ShowBase` (EGL, no display server), destroyed at the end of the session."""
    from panda3d.core import load_prc_file_data

    load_prc_file_data("posetrack-tests", HEADLESS_PRC)
    from direct.showbase.ShowBase import ShowBase

    try:
        base = ShowBase(windowType="offscreen")
    except Exception as e:  # ShowBase raises a bare Exception when no window can be opened
        reason = str(e) or type(e).__name__
    else:
        reason = ""
    if reason:
        pytest.fail(_no_gl_message(reason), pytrace=False)
    if base.win is None or base.win.gsg is None or not base.win.gsg.is_valid():
        base.destroy()
        pytest.fail(_no_gl_message("no graphics state guardian"), pytrace=False)
    try:
        yield base
    finally:
        base.destroy()


def _no_gl_message(reason: str) -> str:
    return (
        f"could not create an offscreen OpenGL context through EGL ({reason}). "
        f"On Debian/Ubuntu install: apt-get install -y {EGL_PACKAGES}"
    )


@pytest.fixture(scope="session")
def sports2d_clip() -> Path:
    """Sports2D demo clip: one person jumping, 1768x994, 30 fps, 230 frames."""
    from posetrack.downloads.samples import sample_path

    return sample_path("sports2d-demo.mp4")


@pytest.fixture(scope="session")
def messi_image() -> Path:
    """OpenCV's messi5.jpg: one footballer, 548x342."""
    from posetrack.downloads.samples import sample_path

    return sample_path("messi5.jpg")
