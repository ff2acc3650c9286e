"""A character by name or file: the generated mannequin, or a user's glTF, bam or egg model.

`load_character("mannequin")` builds the project's mannequin; a path ending .gltf/.glb is read
with panda3d-gltf (Y-up glTF turned into Panda3D's Z-up axes, so a glTF character facing +Z
faces -Y like the mannequin), .bam and .egg with Panda3D's own model loader (no ShowBase
needed). The model becomes a direct.actor.Actor; its rig preset is detected from the joint
names unless one is given, and its rest pose is read with `skeleton_from_actor`.
"""

from pathlib import Path

from direct.actor.Actor import Actor
from panda3d.core import Filename, Loader, LoaderOptions, NodePath, PandaNode

from posetrack.characters.mannequin import build_mannequin
from posetrack.characters.presets import RigPreset
from posetrack.characters.skeleton import Skeleton, skeleton_from_actor
from posetrack.errors import PosetrackError

BUILTIN_CHARACTERS = ("mannequin",)  # characters known by name rather than by file
GLTF_SUFFIXES = (".gltf", ".glb")
PANDA_SUFFIXES = (".bam", ".egg")
FORMATS = "glTF (.gltf, .glb; needs the panda3d-gltf package), Panda3D .bam and .egg"


def load_character(
    kind: str, preset: str | RigPreset | None = None, base_dir: Path | None = None
) -> tuple[Actor, Skeleton]:
    """The Actor and its rest skeleton for a built-in character name or a model file.

    `kind`: "mannequin" or a path (relative ones resolve against `base_dir`, default the
    working directory). `preset`: a built-in rig preset name or a RigPreset; None detects it
    from the joint names. Raises PosetrackError for a missing, unreadable or unsupported file,
    a model without a skeleton, and a rig whose joints no preset maps (listing the names).
    """
    if kind in BUILTIN_CHARACTERS:
        actor = build_mannequin()
        return actor, _skeleton(actor, preset if preset is not None else kind, kind)
    path = Path(kind).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        known = ", ".join(BUILTIN_CHARACTERS)
        raise PosetrackError(
            f"no character file {path} (a character is a built-in name: {known}; or a model "
            f"file: {FORMATS})"
        )
    suffix = path.suffix.lower()
    if suffix in GLTF_SUFFIXES:
        node = _load_gltf(path)
    elif suffix in PANDA_SUFFIXES:
        node = _load_panda(path)
    else:
        raise PosetrackError(f"cannot load character {path}: unsupported format; use {FORMATS}")
    model = NodePath(node)
    if model.find("**/+Character").is_empty():
        raise PosetrackError(
            f"character {path} has no skeleton (no skinned mesh with joints); export it "
            "with its armature and skin"
        )
    actor = Actor(model)
    actor.set_name(path.stem)
    return actor, _skeleton(actor, preset, str(path))


def _skeleton(actor: Actor, preset: str | RigPreset | None, what: str) -> Skeleton:
    try:
        return skeleton_from_actor(actor, preset)
    except PosetrackError as e:
        actor.cleanup()
        raise PosetrackError(f"character {what}: {e}") from e


def _load_gltf(path: Path) -> PandaNode:
    try:
        import gltf  # lazy: an optional package, needed for .gltf/.glb only
    except ImportError as e:
        raise PosetrackError(
            f"cannot load {path}: glTF characters need the panda3d-gltf package "
            "(pip install panda3d-gltf)"
        ) from e
    try:
        return gltf.load_model(str(path))
    except Exception as e:  # noqa: BLE001 -- the converter raises anything on bad input
        raise PosetrackError(
            f"cannot read character {path} as glTF 2.0 ({type(e).__name__}: {e}); "
            f"supported formats: {FORMATS}"
        ) from e


def _load_panda(path: Path) -> PandaNode:
    # no model cache: a user's edited file must be read afresh; report errors to the log too
    options = LoaderOptions(LoaderOptions.LF_search | LoaderOptions.LF_report_errors
                            | LoaderOptions.LF_no_cache)  # fmt: skip
    node = Loader.get_global_ptr().load_sync(Filename.from_os_specific(str(path)), options)
    if node is None:
        raise PosetrackError(
            f"cannot read character {path}: Panda3D's loader could not load it as "
            f"{path.suffix.lower()}; supported formats: {FORMATS}"
        )
    return node
