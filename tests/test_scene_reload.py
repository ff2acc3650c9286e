"""Hot reload: SceneWatcher hands the game each good version of a scene file and keeps the last
good one (reporting the validator's problems) when a save is invalid."""

from pathlib import Path

from posetrack.components.scene import Character
from posetrack.scene import (
    Problem,
    Scene,
    SceneWatcher,
    load_scene,
    update_scene_file,
    validate_scene,
)

SCENE = """\
# a player and a tracker
[[entity]]
name = "tracker"
tracker.model = "blazepose-full"

[[entity]]
name = "player"

[entity.character]
kind = "mannequin"
scale = {scale}   # metres per model unit
"""


class Recorder:
    """The game's side: what the watcher handed over."""

    def __init__(self) -> None:
        self.scenes: list[Scene] = []
        self.errors: list[list[Problem]] = []

    def watch(self, path: Path, scene: Scene | None = None) -> SceneWatcher:
        return SceneWatcher(path, self.scenes.append, self.errors.append, scene)


def _scale(scene: Scene) -> float:
    return scene.entity("player").get(Character).scale


def test_first_poll_loads_the_scene_when_none_was_given(tmp_path: Path) -> None:
    path = tmp_path / "scene.toml"
    path.write_text(SCENE.format(scale=1.0))
    game = Recorder()
    watcher = game.watch(path)
    assert watcher.poll() is True
    assert [_scale(s) for s in game.scenes] == [1.0] and game.errors == []
    assert watcher.poll() is False and len(game.scenes) == 1


def test_a_valid_save_is_reported_within_one_poll(tmp_path: Path) -> None:
    path = tmp_path / "scene.toml"
    path.write_text(SCENE.format(scale=1.0))
    game = Recorder()
    watcher = game.watch(path, load_scene(path))
    assert watcher.poll() is False  # the caller already has this version
    path.write_text(SCENE.format(scale=1.5))  # same size, same mtime tick possibly
    assert watcher.poll() is True
    assert [_scale(s) for s in game.scenes] == [1.5]
    assert _scale(watcher.scene) == 1.5
    path.write_text(SCENE.format(scale=1.5))  # saved again, unchanged: nothing to report
    assert watcher.poll() is False and len(game.scenes) == 1


def test_an_invalid_save_keeps_the_last_good_scene(tmp_path: Path) -> None:
    path = tmp_path / "scene.toml"
    path.write_text(SCENE.format(scale=1.0))
    game = Recorder()
    watcher = game.watch(path, load_scene(path))
    path.write_text(SCENE.format(scale=-2))
    assert watcher.poll() is True
    assert game.scenes == [] and game.errors == [validate_scene(path)]
    (problem,) = game.errors[0]
    assert str(problem) == f"{path}:11: entity[1].character.scale: must be > 0, got -2"
    assert _scale(watcher.scene) == 1.0  # the last good one
    assert watcher.poll() is False and len(game.errors) == 1  # reported once, not every poll
    path.write_text(SCENE.format(scale=1.0).replace("[entity.character]", "[entity.character"))
    assert watcher.poll() is True
    assert game.errors[1][0].message.startswith("TOML syntax:") and game.errors[1][0].line == 9
    path.write_text(SCENE.format(scale=0.5))  # fixed
    assert watcher.poll() is True
    assert [_scale(s) for s in game.scenes] == [0.5] and len(game.errors) == 2


def test_a_deleted_file_is_reported_once_and_a_restored_one_reloads(tmp_path: Path) -> None:
    path = tmp_path / "scene.toml"
    path.write_text(SCENE.format(scale=1.0))
    game = Recorder()
    watcher = game.watch(path, load_scene(path))
    path.unlink()
    assert watcher.poll() is True and watcher.poll() is False
    assert len(game.errors) == 1 and "cannot read the scene file" in game.errors[0][0].message
    assert _scale(watcher.scene) == 1.0
    path.write_text(SCENE.format(scale=2.0))
    assert watcher.poll() is True and [_scale(s) for s in game.scenes] == [2.0]


def test_the_editors_save_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "scene.toml"
    path.write_text(SCENE.format(scale=1.0))
    game = Recorder()
    watcher = game.watch(path, load_scene(path))
    update_scene_file(path, {"character.scale": 1.2})
    assert watcher.poll() is True
    assert [_scale(s) for s in game.scenes] == [1.2]
    assert "scale = 1.2   # metres per model unit" in path.read_text()
