"""The demo game honours its scene file: HUD parts turned off, the sprite and the mannequin
moved and scaled, a character's own smoothing, and a clip that does not loop (headless runs on
the real clip; the final JSON summary reports what the nodes show)."""

import json
import os
import sys
from pathlib import Path

import cv2
import pytest
from game_process import run_game as run_game_process

FRAMES = 6  # a few frames: the scene is applied before the first one
ASPECT = 1280 / 720  # the headless window (settings.WINDOW)

SCENE = """
[[entity]]
name = "camera"
[entity.source]
uri = "{uri}"
loop = {loop}

[[entity]]
name = "tracker"
[entity.tracker]
model = "blazepose-full"

[[entity]]
name = "player"
[entity.character]
kind = "mannequin"
position = [0.5, 1.0, 0.0]
heading = 30.0
scale = 1.25
min_cutoff = 0.2

[[entity]]
name = "sprite"
[entity.character]
kind = "sprite"
position = [-0.5, 0.0, 0.4]
scale = 0.3
mirror = false

[[entity]]
name = "hud"
[entity.hud]
fps = false
stages = false
latency = true
confidence = false
camera_pip = false
pip_size = 0.25
"""


def run_game(scene: Path, frames: int, source: str | None) -> dict:
    """One headless run; its final summary line."""
    env = {**os.environ, "EGL_PLATFORM": os.environ.get("EGL_PLATFORM", "surfaceless")}
    cmd = [sys.executable, "-m", "posetrack.game", "--offscreen", "--frames", str(frames),
           "--scene", str(scene)]  # fmt: skip
    if source is not None:
        cmd += ["--source", source]
    proc = run_game_process(cmd, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines and lines[-1]["type"] == "summary", proc.stdout[-2000:]
    return lines[-1]


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    scene = tmp_path_factory.mktemp("scene") / "scene.toml"
    scene.write_text(SCENE.format(uri="sample:sports2d-demo.mp4", loop="true"))
    return run_game(scene, FRAMES, "sample:sports2d-demo.mp4")


def test_hud_parts_the_scene_turns_off_are_hidden(summary: dict) -> None:
    assert summary["hud_parts"] == {"fps": False, "stages": False, "latency": True,
                                    "confidence": False}  # fmt: skip
    lines = summary["hud"]["perf"].splitlines()
    assert lines[0] == "model blazepose-full", lines  # no fps readout before the model
    assert not [line for line in lines if line.startswith(("confidence", "  "))], lines
    assert any(line.startswith("latency") for line in lines), lines
    # camera_pip = false: hidden, nothing uploaded; pip_size: a quarter of 2 x aspect across
    assert summary["pip"] == {"visible": False, "width": round(0.25 * 2 * ASPECT, 4)}
    assert summary["pip_frames"] == 0


def test_mannequin_stands_where_the_scene_says(summary: dict) -> None:
    player = summary["player"]
    assert player["kind"] == "mannequin"
    assert player["position"] == pytest.approx([0.5, 1.0, 0.0])
    assert player["heading"] == pytest.approx(30.0)
    assert player["scale"] == pytest.approx(1.25)
    assert summary["character_scale"] == pytest.approx(1.25)


def test_sprite_is_placed_scaled_and_unmirrored_as_the_scene_says(summary: dict) -> None:
    sprite = summary["sprite"]
    # render2d-style x (-1..1 across the window) onto aspect2d: x * aspect ratio
    assert sprite["position"] == pytest.approx([-0.5 * ASPECT, 0.0, 0.4], abs=1e-3)
    assert sprite["scale"] == pytest.approx(0.3)
    assert sprite["mirror"] is False


def test_a_characters_own_smoothing_is_its_own(summary: dict) -> None:
    # the mannequin overrides min_cutoff: it reads its own filter; the sprite the tracker's
    assert summary["own_smoothing"] == {"player": {"min_cutoff": 0.2}}
    assert summary["tracked_frames"] >= FRAMES - 1  # the overriding character still tracks


def test_a_clip_that_does_not_loop_ends_and_the_game_goes_on(
    tmp_path: Path, sports2d_clip: Path
) -> None:
    # a short real clip: the first 5 frames of the sample as a folder of images, played once
    # over 12 game frames
    folder = tmp_path / "frames"
    folder.mkdir()
    reader = cv2.VideoCapture(str(sports2d_clip))
    for i in range(5):
        ok, frame = reader.read()
        assert ok
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    reader.release()
    scene = tmp_path / "scene.toml"
    scene.write_text(SCENE.format(uri="frames", loop="false"))  # relative to the scene
    summary = run_game(scene, 12, None)
    assert summary["frames"] == 12  # the game kept running past the clip's end
    assert summary["clip_ended"] is True
    assert summary["state"] == "ended"
    assert "clip has ended" in summary["hud"]["message"]
    assert summary["source"].endswith("once")
    assert summary["pip_frames"] == 0  # camera_pip = false in this scene too
    assert summary["tracked_frames"] >= 1  # the clip was tracked while it lasted
