"""Write docs/config.md: every option, its default and meaning, from the code itself.

.venv/bin/python docs/make_config.py        (tests/test_config_doc.py keeps it current)
"""

import dataclasses
import os
import re
from pathlib import Path

from posetrack.components.scene import COMPONENTS
from posetrack.plugin.config import TrackingConfig
from posetrack.scene.schema import field_infos

OUT = Path(__file__).with_name("config.md")
LIMITS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _default(value: object) -> str:
    if value is dataclasses.MISSING or value is None:
        return "unset"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def _type(info) -> str:
    kind = " \\| ".join(f"`{c}`" for c in info.literals) if info.literals else info.kind
    limits = ", ".join(f"{LIMITS[k]} {v}" for k, v in info.limits)
    return f"{kind}, {limits}" if limits else kind


def _help(parser_args: list[str]) -> str:
    from posetrack.cli.main import build_parser

    parser = build_parser()
    for word in parser_args:
        action = next(a for a in parser._subparsers._group_actions if a.choices)  # noqa: SLF001
        parser = action.choices[word]
    return re.sub(r"\n{3,}", "\n\n", parser.format_help(), flags=re.M).strip()


def render() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal: fix it
    from posetrack.game.options import build_parser as demo_parser

    lines = [
        "# Configuration reference",
        "",
        "Every option, with its default and meaning. Generated from the code by",
        "`.venv/bin/python docs/make_config.py`; tests/test_config_doc.py fails when it is stale.",
        "",
        "## In a game: `posetrack.init(base, ...)` arguments and PRC variables",
        "",
        "Explicit arguments win over PRC variables (`posetrack-*` in your game's .prc file,",
        "underscores as dashes), which win over the defaults.",
        "",
        "| argument | PRC variable | default | meaning |",
        "|---|---|---|---|",
    ]
    source = Path(TrackingConfig.__module__.replace(".", "/") + ".py")
    text = (Path(__file__).parent.parent / source).read_text()
    for f in dataclasses.fields(TrackingConfig):
        comment = re.search(rf"^\s+{f.name}: .*?#\s*(.+)$", text, flags=re.M)
        meaning = comment.group(1) if comment else ""
        prc = "posetrack-" + f.name.replace("_", "-")
        lines.append(f"| `{f.name}` | `{prc}` | {_default(f.default)} | {meaning} |")
    lines += ["", "## Scene files: components", ""]
    lines += ["See docs/scene-files.md for the layout; every field of every component:"]
    for table, cls in COMPONENTS.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        lines += ["", f"### `[entity.{table}]`", "", doc, "",
                  "| field | type | default | meaning |", "|---|---|---|---|"]  # fmt: skip
        for info in field_infos(cls):
            lines.append(f"| `{info.name}` | {_type(info)} | {_default(info.default)} | "
                         f"{info.help} |")  # fmt: skip
    for title, words in (("posetrack track", ["track"]), ("posetrack models", ["models"]),
                         ("posetrack scene", ["scene"])):  # fmt: skip
        lines += ["", f"## `{title}`", "", "```", _help(words), "```"]
    lines += ["", "## `posetrack-demo`", "", "```", demo_parser().format_help().strip(), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
