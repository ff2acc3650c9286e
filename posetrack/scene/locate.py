"""Where each key and table of a TOML text is: lines for messages, value spans for edits.

tomllib gives values but no positions, so this is a small scanner over text that tomllib has
already accepted (it assumes valid TOML). Paths name arrays of tables by index, as the scene
package does everywhere: `entity[1].character.scale` is `scale` in the `[entity.character]`
table that follows the second `[[entity]]` header. Keys of inline tables are located too.
"""

import bisect
from dataclasses import dataclass, field

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass
class KeyLoc:
    """A `key = value`: the key's line (1-based) and the value's text span [start, end)."""

    line: int
    start: int
    end: int
    inline: bool = False  # inside an inline table `{ ... }`: no line of its own


@dataclass
class TableLoc:
    """A table: its header's line; where a new key line goes and how it is spelt there."""

    line: int
    insert_at: int  # offset just past the last line that belongs to the table
    prefix: str = ""  # "character." for a table made of dotted keys in its parent
    indent: str = ""
    inline: bool = False


@dataclass
class Layout:
    """Every key and table of one text, by path."""

    text: str
    keys: dict[str, KeyLoc] = field(default_factory=dict)
    tables: dict[str, TableLoc] = field(default_factory=dict)
    _line_starts: list[int] = field(default_factory=list)

    def line_at(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def line_of(self, path: str) -> int:
        """The line of `path`, or of its nearest ancestor that the text has (1 at worst)."""
        while path:
            if path in self.keys:
                return self.keys[path].line
            if path in self.tables:
                return self.tables[path].line
            path = parent_path(path)
        return 1


def parent_path(path: str) -> str:
    """`entity[1].character.scale` -> `entity[1].character` -> `entity[1]` -> `entity` -> ``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rpartition(".")[0]


def scan(text: str) -> Layout:
    """The layout of a valid TOML text."""
    layout = Layout(text)
    layout._line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    _Scanner(layout).run()
    return layout


class _Scanner:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.text = layout.text
        self.pos = 0
        self.table = ""  # path of the current table ("" is the root)
        self.arrays: dict[str, int] = {}  # path of an array of tables -> its length so far
        self._dotted_end: list[str] = []  # tables made by the last key's dotted parts
        layout.tables[""] = TableLoc(1, 0)

    def run(self) -> None:
        text = self.text
        while True:
            self._skip(" \t\r\n")
            if self.pos >= len(text):
                return
            if text[self.pos] == "#":
                self._to_line_end()
            elif text[self.pos] == "[":
                self._header()
            else:
                self._key_value(self.table, inline=False)
                self._to_line_end()
                self._grow(self.table, self.pos)

    # -- pieces -------------------------------------------------------------------------
    def _header(self) -> None:
        text, start = self.text, self.pos
        is_array = text.startswith("[[", self.pos)
        self.pos += 2 if is_array else 1
        parts = self._key()
        self.pos += 2 if is_array else 1
        path = ""
        for i, part in enumerate(parts):
            path = _join(path, part)
            if path in self.arrays and not (is_array and i == len(parts) - 1):
                path = f"{path}[{self.arrays[path] - 1}]"
        if is_array:
            self.arrays[path] = self.arrays.get(path, 0) + 1
            self.layout.tables.setdefault(path, TableLoc(self.layout.line_at(start), start))
            path = f"{path}[{self.arrays[path] - 1}]"
        self._to_line_end()
        self.layout.tables[path] = TableLoc(self.layout.line_at(start), self.pos)
        self.table = path

    def _key_value(self, table: str, inline: bool) -> None:
        key_start = self.pos
        parts = self._key()
        self.pos += 1  # "="
        self._skip(" \t")
        path = table
        for part in parts[:-1]:  # dotted keys make (or extend) tables inside this one
            path = _join(path, part)
            loc = self.layout.tables.get(path)
            if loc is None:
                prefix = path[len(table) + 1 :] + "." if table else path + "."
                indent = self.text[self.layout._line_starts[self.layout.line_at(key_start) - 1] :
                                   key_start]  # fmt: skip
                self.layout.tables[path] = TableLoc(
                    self.layout.line_at(key_start), 0, prefix, indent, inline
                )
        path = _join(path, parts[-1])
        start = self.pos
        if self.text.startswith("{", self.pos):
            self.layout.tables[path] = TableLoc(self.layout.line_at(key_start), 0, inline=True)
            self._inline_table(path)
        else:
            self._skip_value(inline)
        self.layout.keys[path] = KeyLoc(self.layout.line_at(key_start), start, self.pos, inline)
        self._dotted_end = [_join(table, ".".join(parts[: i + 1])) for i in range(len(parts) - 1)]

    def _grow(self, table: str, end: int) -> None:
        """The table (and the dotted-key tables of the last key) now end at `end`."""
        self.layout.tables[table].insert_at = end
        for path in self._dotted_end:
            self.layout.tables[path].insert_at = end
        self._dotted_end = []

    def _inline_table(self, path: str) -> None:
        self.pos += 1
        while True:
            self._skip(" \t\r\n,")
            if self.text[self.pos] == "}":
                self.pos += 1
                return
            self._key_value(path, inline=True)

    def _key(self) -> list[str]:
        text, parts = self.text, []
        while True:
            self._skip(" \t")
            if text[self.pos] in "\"'":
                quote, begin = text[self.pos], self.pos + 1
                self._skip_string()
                raw = text[begin : self.pos - 1]
                parts.append(raw.encode().decode("unicode_escape") if quote == '"' else raw)
            else:
                begin = self.pos
                while self.pos < len(text) and text[self.pos] in _BARE:
                    self.pos += 1
                parts.append(text[begin : self.pos])
            self._skip(" \t")
            if text[self.pos] != ".":
                return parts
            self.pos += 1

    def _skip_value(self, inline: bool) -> None:
        text = self.text
        c = text[self.pos]
        if c in "\"'":
            self._skip_string()
        elif c == "[":
            self._skip_array()
        elif c == "{":  # an inline table inside an array: skipped, not located
            keys, tables = dict(self.layout.keys), dict(self.layout.tables)
            self._inline_table("\0")
            self.layout.keys, self.layout.tables = keys, tables
        else:  # number, bool, date: to the end of the line or the next separator
            stops = "#\n,]}" if inline else "#\n"
            begin = self.pos
            while self.pos < len(text) and text[self.pos] not in stops:
                self.pos += 1
            self.pos = begin + len(text[begin : self.pos].rstrip())

    def _skip_array(self) -> None:
        self.pos += 1
        while True:
            self._skip(" \t\r\n,")
            c = self.text[self.pos]
            if c == "#":
                self._to_line_end()
            elif c == "]":
                self.pos += 1
                return
            else:
                self._skip_value(inline=True)

    def _skip_string(self) -> None:
        text, quote = self.text, self.text[self.pos]
        if text.startswith(quote * 3, self.pos):
            end = self.pos + 3
            while True:
                end = text.index(quote * 3, end)
                if quote == '"' and _escaped(text, end):
                    end += 1
                    continue
                break
            self.pos = end + 3
            while self.pos < len(text) and text[self.pos] == quote:  # """a"""" is 'a"'
                self.pos += 1
            return
        end = self.pos + 1
        while text[end] != quote or (quote == '"' and _escaped(text, end)):
            end += 1
        self.pos = end + 1

    def _skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def _to_line_end(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end + 1


def _escaped(text: str, index: int) -> bool:
    """True when the character at `index` follows an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part
