"""The demo game: `posetrack-demo` (or `python -m posetrack.game`); see posetrack/game/app.py.

Modules: app (ShowBase, command line, headless mode), play (the game's frame), targets (rules),
world (3D stage), hud, pip (camera picture-in-picture), keys (bindings, help), editor (panel),
session (the tracker, rebuilt on model/backend switches), source (webcam or looping clip),
settings / scene_link (command line and scene file), probe (headless reports).
"""
