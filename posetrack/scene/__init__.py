"""Scene files: TOML files of entities and their components (docs/scene-files.md).

scene = load_scene("demo.toml")          # SceneError listing every problem if invalid
problems = validate_scene("demo.toml")   # [] when good; str(p): FILE:LINE: PATH: message
schema = json_schema()                   # JSON Schema (draft 2020-12) for editors
watcher = SceneWatcher(path, on_change, on_error, scene)   # hot reload: watcher.poll()
update_scene_file(path, {"entity[1].character.scale": 1.2})  # comments kept
"""

from posetrack.scene.edit import update_scene_file
from posetrack.scene.load import Entity, Scene, load_scene, load_scene_text
from posetrack.scene.problems import Problem, SceneError
from posetrack.scene.reload import SceneWatcher
from posetrack.scene.schema import json_schema
from posetrack.scene.validate import validate_scene

__all__ = [
    "Entity",
    "Problem",
    "Scene",
    "SceneError",
    "SceneWatcher",
    "json_schema",
    "load_scene",
    "load_scene_text",
    "update_scene_file",
    "validate_scene",
]
