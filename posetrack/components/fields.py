"""`setting()`: a dataclass field that carries its documentation and limits.

Components that users configure (the tracker's TrackingConfig, the scene components) declare
each field with it; the scene schema, scene validation, the command line's help and
docs/config.md are all read off these fields, so a setting is described in one place:

    help       one line: what the field means
    gt, ge     exclusive / inclusive lower bound of a number
    lt, le     exclusive / inclusive upper bound of a number
    choices    the name of a dynamic list the value must be in (or, with `pattern`, match):
               "pose_models" (posetrack.models.zoo), "rig_presets" (posetrack.characters.presets)
    pattern    a regular expression a string outside the fixed choices must match (a file path)
    asset      what the value names, checked to exist: "source", "model", "preset", "character"
    scene      False: not part of the component's scene-file table (set elsewhere in a scene)
"""

from dataclasses import field
from typing import Any


def setting(default: Any, help: str, **limits: Any) -> Any:
    """A field with its default, help line and limits (see the module docstring)."""
    return field(default=default, metadata={"help": help, **limits})
