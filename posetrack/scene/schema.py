"""The scene file's JSON Schema (draft 2020-12), generated from the component dataclasses.

`json_schema()` is what `posetrack scene schema` prints. Editors that read JSON Schema for TOML
(Taplo / Even Better TOML: a `#:schema FILE` first line) then validate and autocomplete scene
files. `field_infos(cls)` is the one reading of a component's fields that both the schema and
the validator (validate.py) use, so the two cannot disagree.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from posetrack.characters.presets import builtin_presets
from posetrack.components.scene import COMPONENTS
from posetrack.plugin.config import pose_models

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# JSON Schema keyword of each limit in the fields' metadata
LIMIT_KEYWORDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
}
LIMIT_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
ENTITY_NAME_HELP = "the entity's name, unique in the scene (other entities refer to it by it)"


@dataclass(frozen=True)
class FieldInfo:
    """One component field as a scene file sees it."""

    name: str
    kind: str  # "bool" | "int" | "float" | "str" | "vector"
    default: Any  # dataclasses.MISSING when the field is required
    optional: bool  # None allowed (the key may be left out: no default value)
    help: str = ""
    literals: tuple[str, ...] = ()  # fixed choices (from Literal)
    open_choices: bool = False  # Literal | str: a string outside the choices is allowed
    length: int = 0  # vector: number of items
    limits: tuple[tuple[str, float], ...] = ()  # (("gt", 0),)
    choices: str = ""  # name of a dynamic list (choice_values)
    pattern: str = ""
    asset: str = ""


def field_infos(cls: type) -> list[FieldInfo]:
    """The fields of a component dataclass, types resolved."""
    hints = typing.get_type_hints(cls)
    infos = []
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        if meta.get("scene") is False:  # set by another component in a scene (a Source)
            continue
        kind, literals, open_choices, length, optional = _classify(hints[f.name])
        infos.append(
            FieldInfo(
                name=f.name,
                kind=kind,
                default=f.default,
                optional=optional,
                help=meta.get("help", ""),
                literals=literals,
                open_choices=open_choices,
                length=length,
                limits=tuple((k, meta[k]) for k in LIMIT_KEYWORDS if k in meta),
                choices=meta.get("choices", ""),
                pattern=meta.get("pattern", ""),
                asset=meta.get("asset", ""),
            )
        )
    return infos


def choice_values(name: str) -> list[str]:
    """A dynamic list of allowed values, by the name a field's metadata gives."""
    if name == "pose_models":
        return pose_models()
    if name == "rig_presets":
        return list(builtin_presets())
    raise ValueError(f"unknown choice list {name!r}")


def json_schema() -> dict:
    """The JSON Schema of a scene file."""
    entity_props: dict[str, Any] = {"name": {"type": "string", "description": ENTITY_NAME_HELP}}
    defs: dict[str, Any] = {}
    for table, cls in COMPONENTS.items():
        defs[cls.__name__] = _component_schema(cls)
        entity_props[table] = {"$ref": f"#/$defs/{cls.__name__}"}
    defs["Entity"] = {
        "type": "object",
        "description": "One entity: a name and the components it carries, one table each.",
        "properties": entity_props,
        "required": ["name"],
        "additionalProperties": False,
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "posetrack scene",
        "description": "A scene of panda3d-posetrack: entities and their components "
        "(docs/scene-files.md). Write it as TOML: one [[entity]] table per entity.",
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "the scene's name"},
            "description": {"type": "string", "description": "what the scene is for"},
            "entity": {
                "type": "array",
                "description": "the entities, one [[entity]] table each",
                "items": {"$ref": "#/$defs/Entity"},
            },
        },
        "additionalProperties": False,
        "$defs": defs,
    }


def _component_schema(cls: type) -> dict:
    properties = {info.name: field_schema(info) for info in field_infos(cls)}
    required = [info.name for info in field_infos(cls) if info.default is dataclasses.MISSING]
    schema: dict[str, Any] = {
        "type": "object",
        "description": (cls.__doc__ or "").strip().splitlines()[0],
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def field_schema(info: FieldInfo) -> dict:
    """The schema of one field's value."""
    base = {"bool": "boolean", "int": "integer", "float": "number", "str": "string"}
    schema: dict[str, Any]
    if info.kind == "vector":
        item = {"type": "number"}
        schema = {"type": "array", "prefixItems": [item] * info.length, "items": False,
                  "minItems": info.length, "maxItems": info.length}  # fmt: skip
    else:
        schema = {"type": base[info.kind]}
    fixed = list(info.literals) or (choice_values(info.choices) if info.choices else [])
    if fixed and (info.open_choices or info.pattern):
        free = {"type": "string", **({"pattern": info.pattern} if info.pattern else {})}
        schema = {"anyOf": [{"type": "string", "enum": fixed}, free]}
    elif fixed:
        schema["enum"] = fixed
    elif info.pattern:
        schema["pattern"] = info.pattern
    for key, bound in info.limits:
        schema[LIMIT_KEYWORDS[key]] = bound
    if info.help:
        schema["description"] = info.help
    if info.default is not dataclasses.MISSING and info.default is not None:
        value = info.default
        schema["default"] = list(value) if isinstance(value, tuple) else value
    return schema


def _classify(hint: Any) -> tuple[str, tuple[str, ...], bool, int, bool]:
    """(kind, literals, open choices, vector length, optional) of a field's type hint."""
    args = list(typing.get_args(hint)) if _is_union(hint) else [hint]
    optional = type(None) in args
    args = [a for a in args if a is not type(None)]
    literals: list[str] = []
    for arg in list(args):
        if typing.get_origin(arg) is Literal:
            literals.extend(typing.get_args(arg))
            args.remove(arg)
    if literals and not args:
        return "str", tuple(literals), False, 0, optional
    (arg,) = args  # one plain type besides the literals and None
    if typing.get_origin(arg) is tuple:
        return "vector", (), False, len(typing.get_args(arg)), optional
    kinds = {bool: "bool", int: "int", float: "float", str: "str"}
    return kinds[arg], tuple(literals), bool(literals), 0, optional


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
