"""Check a scene file and report every problem with its file, line and field path.

Problems found: TOML syntax errors, unknown top-level keys, components and fields, missing or
duplicate entity names, wrong types, values out of range or outside their choices, and missing
assets (a model file, a rig preset, a source file that does not exist, an unknown pose model or
sample clip, a character's `tracker` that names no tracker entity). Syntax errors stop the
check (nothing else can be read); everything else is reported together.
"""

import dataclasses
import json
import math
import re
import tomllib
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from posetrack.components.scene import COMPONENTS
from posetrack.downloads.samples import SAMPLES
from posetrack.scene.locate import Layout, scan
from posetrack.scene.problems import Problem
from posetrack.scene.schema import LIMIT_SYMBOLS, FieldInfo, choice_values, field_infos

TOP_LEVEL_KEYS = ("name", "description", "entity")
_TOML_TYPES = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
               list: "an array", dict: "a table"}  # fmt: skip
_WANTED = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "a string"}
_FILE_KINDS = {"character": "a model file (.gltf, .glb, .bam, .egg)",
               "preset": "a rig preset .toml file"}  # fmt: skip
_CHOICE_NOUNS = {"pose_models": "pose model", "rig_presets": "rig preset",
                 "character": "character kind"}  # fmt: skip


def validate_scene(path: str | Path) -> list[Problem]:
    """Every problem of the scene file at `path` (empty: the file is good)."""
    return check_file(path)[0]


def check_file(path: str | Path) -> tuple[list[Problem], dict | None]:
    """(problems, parsed TOML) of a scene file; the file is named in messages as given."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return [Problem(str(path), 1, "", f"cannot read the file: {e}")], None
    return check_text(text, str(path), Path(path).resolve().parent)


def check_text(text: str, file: str, base_dir: Path) -> tuple[list[Problem], dict | None]:
    """(problems, parsed TOML) of a scene's text; relative asset paths start at `base_dir`."""
    if text.startswith("\ufeff"):  # TOML forbids it; editors on Windows like to add it
        message = "starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without a BOM"
        return [Problem(file, 1, "", message)], None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return [Problem(file, _syntax_line(str(e), text), "", f"TOML syntax: {e}")], None
    checker = _Checker(file, scan(text), base_dir)
    checker.scene(data)
    return checker.problems, data


class _Checker:
    def __init__(self, file: str, layout: Layout, base_dir: Path) -> None:
        self.file, self.layout, self.base_dir = file, layout, base_dir
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.layout.line_of(path), path, message))

    def scene(self, data: dict) -> None:
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self.add(key, f"unknown top-level key{_suggest(key, TOP_LEVEL_KEYS)}")
        for key in ("name", "description"):
            if key in data and not isinstance(data[key], str):
                self.add(key, f"must be a string, got {_show(data[key])}")
        entities = data.get("entity", [])
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            self.add("entity", "entities are [[entity]] tables")
            return
        if not entities:  # nothing to play: a game would fall back on its own default scene
            self.add("", "declares no entities: add [[entity]] tables (see docs/scene-files.md)")
            return
        names: dict[str, int] = {}
        for i, entity in enumerate(entities):
            self.entity(f"entity[{i}]", entity, names)
        self.references(entities)

    def entity(self, path: str, entity: dict, names: dict[str, int]) -> None:
        name = entity.get("name")
        if name is None:
            self.add(path, 'has no name: add name = "..." under its [[entity]] header')
        elif not isinstance(name, str) or not name:
            self.add(f"{path}.name", f"must be a non-empty string, got {_show(name)}")
        elif name in names:
            self.add(f"{path}.name", f"{_show(name)} is also the name of entity[{names[name]}]")
        else:
            names[name] = int(path[7:-1])
        for table, value in entity.items():
            if table == "name":
                continue
            where = f"{path}.{table}"
            if table not in COMPONENTS:
                self.add(where, f"unknown component{_suggest(table, ['name', *COMPONENTS])}")
            elif not isinstance(value, dict):
                self.add(where, f"must be a table ([entity.{table}]), got {_show(value)}")
            else:
                self.component(where, COMPONENTS[table], value)

    def component(self, path: str, cls: type, values: dict) -> None:
        infos = {info.name: info for info in field_infos(cls)}
        for key, value in values.items():
            if key not in infos:
                self.add(f"{path}.{key}", f"unknown field{_suggest(key, infos)}")
                continue
            message = check_value(infos[key], value, self.base_dir)
            if message:
                self.add(f"{path}.{key}", message)
        for info in infos.values():
            if info.default is dataclasses.MISSING and info.name not in values:
                self.add(path, f"missing required field {info.name!r}")

    def references(self, entities: list[dict]) -> None:
        trackers = [e.get("name") for e in entities if "tracker" in e]
        for i, entity in enumerate(entities):
            character = entity.get("character")
            wanted = character.get("tracker") if isinstance(character, dict) else None
            if isinstance(wanted, str) and wanted not in trackers:
                known = ", ".join(str(t) for t in trackers) or "none in this scene"
                self.add(
                    f"entity[{i}].character.tracker",
                    f"no entity {_show(wanted)} with a tracker component (trackers: {known})",
                )


def check_value(info: FieldInfo, value: Any, base_dir: Path) -> str:
    """What is wrong with `value` for this field ("" when nothing is)."""
    wrong = _type_problem(info, value)
    if wrong:
        return wrong
    for key, bound in info.limits:
        if not _within(value, key, bound):
            return f"must be {LIMIT_SYMBOLS[key]} {bound:g}, got {_show(value)}"
    if info.kind == "str":
        return _choice_problem(info, value, base_dir)
    return ""


def _type_problem(info: FieldInfo, value: Any) -> str:
    if info.kind == "vector":
        ok = isinstance(value, list) and len(value) == info.length
        if ok and all(_is_number(v) for v in value):
            return ""
        return f"must be an array of {info.length} numbers, got {_show(value)}"
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": _is_number(value),
        "str": isinstance(value, str),
    }[info.kind]
    return "" if ok else f"must be {_WANTED[info.kind]}, got {_show(value)}"


def _choice_problem(info: FieldInfo, value: str, base_dir: Path) -> str:
    fixed = list(info.literals) or (choice_values(info.choices) if info.choices else [])
    if value in fixed:
        return ""
    if info.asset == "source":
        return _source_problem(value, base_dir)
    if info.pattern and re.search(info.pattern, value, re.IGNORECASE):
        found = (base_dir / value).expanduser()
        return "" if found.exists() else f"file not found: {value} (looked for {found})"
    if not fixed:
        return ""
    if not (info.choices or info.pattern):
        return f"must be one of {', '.join(fixed)}, got {_show(value)}"
    noun = _CHOICE_NOUNS.get(info.choices or info.asset, "value")
    alternatives = ", ".join(fixed)
    if info.pattern:
        alternatives += f", or {_FILE_KINDS.get(info.asset, 'a file matching ' + info.pattern)}"
    return f"unknown {noun} {_show(value)}{_suggest_tail(value, fixed)}; use {alternatives}"


def _source_problem(uri: str, base_dir: Path) -> str:

    if uri.startswith("webcam:"):
        index = uri.removeprefix("webcam:")
        return "" if index.isdigit() else f"webcam:N takes a camera number, got {_show(uri)}"
    if uri.startswith("sample:"):
        name = uri.removeprefix("sample:")
        if name in SAMPLES:
            return ""
        return f"unknown sample {_show(name)}{_suggest_tail(name, SAMPLES)}; samples: " + ", ".join(
            SAMPLES
        )
    found = (base_dir / uri).expanduser()
    if found.exists():
        return ""
    return f"file not found: {uri} (looked for {found}); use webcam:N, sample:NAME or a file"


def _within(value: float, key: str, bound: float) -> bool:
    return {
        "gt": value > bound,
        "ge": value >= bound,
        "lt": value < bound,
        "le": value <= bound,
    }[key] and not math.isnan(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    """A value as TOML spells it, with its TOML type when that is what is wrong."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    kind = next((name for t, name in _TOML_TYPES.items() if isinstance(value, t)), "a value")
    if isinstance(value, list):
        return f"{kind} [{', '.join(_show(v) for v in value)}]"
    return kind


def _suggest(key: str, known: Any) -> str:
    """' "scal" (did you mean "scale"?); known: a, b' for an unknown key."""
    names = list(known)
    return f" {_show(key)}{_suggest_tail(key, names)}; known: {', '.join(names)}"


def _suggest_tail(key: str, known: Any) -> str:
    close = get_close_matches(key, list(known), n=1)
    return f" (did you mean {_show(close[0])}?)" if close else ""


def _syntax_line(message: str, text: str) -> int:
    """The line tomllib names in its message ("(at line 3, column 5)"), else the last line."""
    found = re.search(r"at line (\d+)", message)
    return int(found.group(1)) if found else max(1, text.count("\n") + 1)
