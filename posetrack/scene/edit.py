"""Save edited values back into a scene file, keeping its comments, order and spacing.

Only the text of each changed value is rewritten; a field the file leaves at its default gets a
new `key = value` line after the last key of its table (or a new `[entity.TABLE]` table at the
end of its entity). The result is validated before the file is replaced: a bad value raises
SceneError and leaves the file as it was.
"""

import math
import numbers
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from posetrack.components.scene import COMPONENTS
from posetrack.scene.load import Scene, build_scene
from posetrack.scene.locate import Layout, parent_path, scan
from posetrack.scene.problems import Problem, SceneError
from posetrack.scene.validate import check_text

_ENTITY_INDEX = re.compile(r"entity\[([^\]]+)\]\.(.+)")


def update_scene_file(path: str | Path, values: Mapping[str, Any]) -> Scene:
    """Write `values` ({field path: value}) into the scene file and return the scene it holds.

    A path is `entity[1].character.scale` (by index from 0), `entity[player].character.scale`
    or `player.character.scale` (by entity name), or `character.scale` (the first entity with a
    character table). A value
    of None removes the key (the field goes back to its default).
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8")  # as it is: CRLF line ends stay CRLF
    for key, value in values.items():
        text = set_value(text, resolve_path(text, key, str(path)), value, str(path))
    problems, data = check_text(text, str(path), path.resolve().parent)
    if problems or data is None:
        raise SceneError(problems)
    _replace_file(path, text)
    return build_scene(path, data)


def resolve_path(text: str, key: str, file: str = "<scene>") -> str:
    """The full path (`entity[N].table.field`) of an editor's field path."""
    data = _parse(text, file)
    entities = data.get("entity", [])
    found = _ENTITY_INDEX.fullmatch(key)
    if found:
        which, rest = found.groups()
        if which.isdigit() and int(which) < len(entities):
            return key
        names = [e.get("name") for e in entities]
        if which in names:
            return f"entity[{names.index(which)}].{rest}"
        _fail(file, key, f"no entity {which} (entities: {', '.join(map(str, names))})")
    first, _, rest = key.partition(".")
    names = [e.get("name") for e in entities]
    if rest and first in names and first not in COMPONENTS:
        return f"entity[{names.index(first)}].{rest}"
    table = first
    if table in COMPONENTS:
        for i, entity in enumerate(entities):
            if table in entity:
                return f"entity[{i}].{key}"
        _fail(file, key, f"no entity has a {table} table")
    return key  # a top-level key (name, description)


def set_value(text: str, full_path: str, value: Any, file: str = "<scene>") -> str:
    """`text` with the value at `full_path` replaced, added, or (None) removed."""
    layout = scan(text)
    loc = layout.keys.get(full_path)
    if loc is not None:
        if value is not None:
            return _replace_span(text, loc.start, loc.end, toml_value(value))
        if loc.inline:
            _fail(file, full_path, "cannot remove a key of an inline table")
        start = text.rfind("\n", 0, loc.start) + 1
        end = text.find("\n", loc.end)
        return text[:start] + text[len(text) if end < 0 else end + 1 :]
    if value is None:
        return text
    table_path, name = parent_path(full_path), full_path.rpartition(".")[2]
    table = layout.tables.get(table_path)
    if table is not None and not table.inline:
        line = f"{table.indent}{table.prefix}{name} = {toml_value(value)}\n"
        return _insert(text, table.insert_at, line)
    entity = parent_path(table_path)
    component = table_path.rpartition(".")[2]
    if entity in layout.tables and component in COMPONENTS and full_path.count(".") == 2:
        block = f"\n[entity.{component}]\n{name} = {toml_value(value)}\n"
        return _insert(text, _entity_end(layout, entity), block)
    _fail(
        file,
        full_path,
        "no such field path: use entity[N].TABLE.FIELD, NAME.TABLE.FIELD or "
        "TABLE.FIELD (docs/scene-files.md)",
    )
    return text  # not reached


def toml_value(value: Any) -> str:
    """A Python value as TOML text (bool, int, float, str, or a list/tuple of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return "nan"
        return repr(number) if math.isfinite(number) else ("inf" if number > 0 else "-inf")
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = "".join(c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}" for c in escaped)
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a scene file")


def _replace_span(text: str, start: int, end: int, new: str) -> str:
    """`text` with [start, end) replaced by `new`; a comment after it keeps its column."""
    gap_end = end
    while gap_end < len(text) and text[gap_end] in " \t":
        gap_end += 1
    if gap_end > end and text.startswith("#", gap_end):
        # the spaces between value and comment absorb the change in length (at least one)
        gap = max(1, (gap_end - end) - (len(new) - (end - start)))
        return text[:start] + new + " " * gap + text[gap_end:]
    return text[:start] + new + text[end:]


def _entity_end(layout: Layout, entity: str) -> int:
    """Offset just past the last line of the entity's tables."""
    return max(
        t.insert_at for p, t in layout.tables.items() if p == entity or p.startswith(entity + ".")
    )


def _insert(text: str, at: int, block: str) -> str:
    if at == len(text) and text and not text.endswith("\n"):
        block = "\n" + block
    return text[:at] + block + text[at:]


def _parse(text: str, file: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        _fail(file, "", f"TOML syntax: {e}")
        raise  # not reached


def _fail(file: str, path: str, message: str) -> None:
    raise SceneError([Problem(file, 1, path, message)])


def _replace_file(path: Path, text: str) -> None:
    """Write `text` to `path` in one step (a watcher never reads half a file)."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
