"""Characters the tracked pose drives.

- `build_mannequin()`: a generated low-poly skinned humanoid (a Panda3D Actor).
- `load_character(kind)`: the mannequin by name, or a user's .gltf/.glb/.bam/.egg model as an
  Actor with its rest Skeleton, through a detected (or given) rig preset.
- `SpriteCharacter`: a 2D cut-out figure on a NodePath joint hierarchy, driven by image-plane
  angles.
- Rig presets (`detect_preset`, `resolve`, `RigPreset`): which joint of any character stands for
  each canonical VRM humanoid bone; `skeleton_from_actor` reads a rig's rest pose in those terms.
"""

from posetrack.characters.loading import load_character
from posetrack.characters.mannequin import DEFAULT_PROPORTIONS, build_mannequin
from posetrack.characters.presets import (
    CANONICAL_BONES,
    OPTIONAL_BONES,
    REQUIRED_BONES,
    RigPreset,
    builtin_presets,
    detect_preset,
    load_preset,
    resolve,
)
from posetrack.characters.skeleton import Skeleton, skeleton_from_actor
from posetrack.characters.sprite import SpriteCharacter

__all__ = [
    "CANONICAL_BONES",
    "DEFAULT_PROPORTIONS",
    "OPTIONAL_BONES",
    "REQUIRED_BONES",
    "RigPreset",
    "Skeleton",
    "SpriteCharacter",
    "build_mannequin",
    "builtin_presets",
    "detect_preset",
    "load_character",
    "load_preset",
    "resolve",
    "skeleton_from_actor",
]
