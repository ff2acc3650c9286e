"""Saving the scene file updates the running demo game within a second, without restarting
tracking; an invalid save keeps the last good scene."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from posetrack.game.scene_link import DEMO_SCENE
from posetrack.scene import update_scene_file


def _run_and_edit(tmp_path: Path, edit) -> dict:
    scene = tmp_path / "scene.toml"
    shutil.copy(DEMO_SCENE, scene)
    shutil.copy(DEMO_SCENE.with_name("scene.schema.json"), tmp_path / "scene.schema.json")
    game = subprocess.Popen(
        [sys.executable, "-m", "posetrack.game", "--offscreen", "--frames", "75", "--scene",
         str(scene), "--source", "sample:sports2d-demo.mp4"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines = []
    for line in game.stdout:
        lines.append(json.loads(line))
        if lines[-1]["type"] == "tick" and lines[-1]["frame"] == 30:
            edit(scene)  # while the game runs: 45 more frames, 1.5 s of game time
    assert game.wait(timeout=120) == 0
    return lines[-1]


def test_a_saved_scene_reaches_the_running_game_without_restarting_tracking(
    tmp_path: Path,
) -> None:
    summary = _run_and_edit(
        tmp_path, lambda scene: update_scene_file(scene, {"player.character.scale": 1.3})
    )
    assert summary["scene_reloads"] == 1
    assert summary["character_scale"] == 1.3
    assert summary["tracker_builds"] == 1  # tracking went on: no rebuild for a scale change
    assert "reloaded scene.toml" in summary["hud"]["notice"]


def test_an_invalid_save_is_reported_and_the_last_good_scene_kept(tmp_path: Path) -> None:
    def break_it(scene: Path) -> None:
        text = scene.read_text().replace("scale = 1.0", "scale = -2.0", 1)
        scene.write_text(text)

    summary = _run_and_edit(tmp_path, break_it)
    assert summary["scene_reloads"] == 0
    assert summary["character_scale"] == 1.0
    assert "scene not reloaded" in summary["hud"]["notice"]
    assert "must be > 0" in summary["hud"]["notice"]
