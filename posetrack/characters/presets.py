"""Rig presets: which joint of a character stands for each canonical (VRM humanoid) bone.

A preset is a joint-name convention (the project's mannequin, Mixamo, VRoid/VRM, Unreal, plain
humanoid names). The built-in ones are TOML files in `posetrack/assets/rigs/`; a user's own rig
gets one with `RigPreset.from_mapping` or `load_preset(path)`. `detect_preset` picks the preset
that covers most canonical bones of a character's joint names; `resolve` returns the canonical ->
joint map and fails with the names of what is missing, because Panda3D's `controlJoint` only
warns about a joint that does not exist.
"""

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher, get_close_matches
from importlib.resources import files
from pathlib import Path

from posetrack.errors import PosetrackError

# Bones every supported rig must have: VRM humanoid names, parents first.
REQUIRED_BONES: tuple[str, ...] = (
    "hips", "spine", "chest", "neck", "head",
    "leftUpperArm", "leftLowerArm", "leftHand",
    "rightUpperArm", "rightLowerArm", "rightHand",
    "leftUpperLeg", "leftLowerLeg", "leftFoot",
    "rightUpperLeg", "rightLowerLeg", "rightFoot",
)  # fmt: skip

# Bones used when the rig has them (VRM humanoid names too).
OPTIONAL_BONES: tuple[str, ...] = (
    "upperChest", "leftShoulder", "rightShoulder", "leftToes", "rightToes",
)  # fmt: skip

CANONICAL_BONES: tuple[str, ...] = REQUIRED_BONES + OPTIONAL_BONES

# The humanoid hierarchy (VRM): each bone's parent; a rig lacking an optional bone hangs its
# children on the next canonical ancestor it does have.
CANONICAL_PARENTS: dict[str, str | None] = {
    "hips": None, "spine": "hips", "chest": "spine", "upperChest": "chest",
    "neck": "upperChest", "head": "neck",
    "leftShoulder": "upperChest", "leftUpperArm": "leftShoulder",
    "leftLowerArm": "leftUpperArm", "leftHand": "leftLowerArm",
    "rightShoulder": "upperChest", "rightUpperArm": "rightShoulder",
    "rightLowerArm": "rightUpperArm", "rightHand": "rightLowerArm",
    "leftUpperLeg": "hips", "leftLowerLeg": "leftUpperLeg", "leftFoot": "leftLowerLeg",
    "leftToes": "leftFoot",
    "rightUpperLeg": "hips", "rightLowerLeg": "rightUpperLeg", "rightFoot": "rightLowerLeg",
    "rightToes": "rightFoot",
}  # fmt: skip

_PRESET_DIR = "assets/rigs"


@dataclass(frozen=True)
class RigPreset:
    """A joint-name convention: canonical bone -> candidate joint names, tried in order.

    `prefix` is a regular expression that may precede every joint name (Mixamo's
    "mixamorig:" namespace, numbered or with "_" in some exports); empty for none.
    """

    name: str
    joints: Mapping[str, tuple[str, ...]]
    prefix: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.joints) - set(CANONICAL_BONES))
        if unknown:
            raise PosetrackError(
                f"rig preset {self.name!r} maps unknown bones {', '.join(unknown)}; "
                f"canonical bones are: {', '.join(CANONICAL_BONES)}"
            )
        try:
            re.compile(self.prefix)
        except re.error as e:
            message = f"rig preset {self.name!r}: bad prefix {self.prefix!r}: {e}"
            raise PosetrackError(message) from e

    @classmethod
    def from_mapping(
        cls, name: str, joints: Mapping[str, str | Iterable[str]], prefix: str = ""
    ) -> "RigPreset":
        """A preset for one's own rig: {canonical bone: joint name or list of candidates}."""
        candidates = {
            bone: (names,) if isinstance(names, str) else tuple(names)
            for bone, names in joints.items()
        }
        return cls(name, candidates, prefix)

    def match(self, joint_names: Iterable[str]) -> dict[str, str]:
        """Canonical bone -> the rig's joint, for every bone this preset finds in the names."""
        by_bare: dict[str, list[str]] = {}
        pattern = re.compile(f"(?:{self.prefix})?(.*)", re.DOTALL) if self.prefix else None
        for joint in joint_names:
            bare = pattern.fullmatch(joint).group(1) if pattern else joint
            by_bare.setdefault(bare, []).append(joint)
        found: dict[str, str] = {}
        for bone, candidates in self.joints.items():
            for candidate in candidates:
                hits = by_bare.get(candidate, [])
                if len(hits) > 1:
                    raise PosetrackError(
                        f"rig preset {self.name!r}: bone {bone} matches several joints "
                        f"({', '.join(sorted(hits))}); give the rig its own preset "
                        "(RigPreset.from_mapping) naming the one to drive"
                    )
                if hits:
                    found[bone] = hits[0]
                    break
        return found


def load_preset(path: str | Path) -> RigPreset:
    """Read a preset TOML file: name, optional prefix/description, and a [joints] table."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise PosetrackError(f"cannot read rig preset {path}: {e}") from e
    return _preset_from_toml(data, str(path))


def builtin_presets() -> dict[str, RigPreset]:
    """The presets shipped in posetrack/assets/rigs/, by name."""
    presets = {}
    for entry in sorted(files("posetrack").joinpath(_PRESET_DIR).iterdir(), key=str):
        if entry.name.endswith(".toml"):
            preset = _preset_from_toml(tomllib.loads(entry.read_text("utf-8")), entry.name)
            presets[preset.name] = preset
    return presets


def detect_preset(joint_names: Iterable[str]) -> RigPreset:
    """The built-in preset that covers most bones (required ones first) of these joint names.

    Raises PosetrackError when none matches any bone, or when two presets cover equally well.
    """
    names = list(joint_names)
    scored = []
    for preset in builtin_presets().values():
        found = preset.match(names)
        required = sum(bone in found for bone in REQUIRED_BONES)
        scored.append(((required, len(found)), preset))
    scored.sort(key=lambda item: item[0], reverse=True)
    best_score, best = scored[0]
    if best_score[1] == 0:
        raise PosetrackError(
            f"no rig preset ({', '.join(p.name for _, p in scored)}) knows any of the "
            f"character's joints: {_listing(names)}; make one with RigPreset.from_mapping"
        )
    tied = [p.name for score, p in scored if score == best_score]
    if len(tied) > 1:
        raise PosetrackError(
            f"rig presets {', '.join(tied)} match the character's joints equally well "
            f"({best_score[0]} required bones); pass preset= to choose one"
        )
    return best


def resolve(joint_names: Iterable[str], preset: str | RigPreset | None = None) -> dict[str, str]:
    """Canonical bone -> the rig's joint name, for every bone the preset finds.

    `preset`: a built-in preset's name, a RigPreset, or None to detect it. Raises
    PosetrackError naming each required bone that is missing (with the joint names it was
    looked for under) and the rig's joints that no bone of the preset matched.
    """
    names = list(joint_names)
    preset = choose_preset(names, preset)
    found = preset.match(names)
    missing = [bone for bone in REQUIRED_BONES if bone not in found]
    if missing:
        mapped = set(found.values())
        unmapped = [n for n in names if n not in mapped]
        wanted = "; ".join(_describe_missing(preset, bone, unmapped) for bone in missing)
        prefix = f" (after an optional prefix matching {preset.prefix!r})" if preset.prefix else ""
        raise PosetrackError(
            f"rig preset {preset.name!r}: the character has no joint for {wanted}{prefix}. "
            f"Its joints that the preset does not map: {_listing(unmapped)}"
        )
    return found


def choose_preset(joint_names: Iterable[str], preset: str | RigPreset | None) -> RigPreset:
    """The preset itself, a built-in one by name, or (None) the one detected from the names."""
    if isinstance(preset, RigPreset):
        return preset
    if preset is None:
        return detect_preset(joint_names)
    known = builtin_presets()
    if preset not in known:
        raise PosetrackError(f"unknown rig preset {preset!r}; known presets: {', '.join(known)}")
    return known[preset]


def _preset_from_toml(data: dict, where: str) -> RigPreset:
    if not isinstance(data.get("name"), str) or not isinstance(data.get("joints"), dict):
        raise PosetrackError(f"rig preset {where}: needs a name and a [joints] table")
    joints = {}
    for bone, value in data["joints"].items():
        value = [value] if isinstance(value, str) else value
        if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            raise PosetrackError(f"rig preset {where}: joints.{bone} must be a name or names")
        joints[bone] = tuple(value)
    return RigPreset(data["name"], joints, data.get("prefix", ""), data.get("description", ""))


def _describe_missing(preset: RigPreset, bone: str, unmapped: list[str]) -> str:
    """'bone (looked for X or Y; closest unmapped joints: ...)' for an error message."""
    sought = preset.joints.get(bone, ())
    if not sought:
        return f"{bone} (not in the preset)"
    # 0.75: a one- or two-letter typo of a joint name, not merely another limb's name
    close = {
        joint
        for name in sought
        for joint in get_close_matches(name, unmapped, n=3, cutoff=0.5)
        if SequenceMatcher(None, name, joint[-len(name) - 1 :]).ratio() >= 0.75
    }
    hint = f"; closest unmapped joints: {', '.join(sorted(close))}" if close else ""
    return f"{bone} (looked for {' or '.join(sought)}{hint})"


def _listing(names: list[str], limit: int = 40) -> str:
    """Names for an error message: all of them, or the first `limit` and a count."""
    if not names:
        return "(none)"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"
