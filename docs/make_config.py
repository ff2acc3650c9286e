"""Write docs/config.md: every option, its default and meaning, from the code itself.

.venv/bin/python docs/make_config.py        (tests/test_config_doc.py keeps it current)
"""

import dataclasses
import os
import re
from pathlib import Path

from posetrack.components.scene import COMPONENTS
from posetrack.components.tracker import TrackingConfig
from posetrack.plugin.config import prc_name
from posetrack.scene.schema import field_infos

OUT = Path(__file__).with_name("config.md")
LIMITS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _default(value: object) -> str:
    if value is dataclasses.MISSING or value is None:
        return "unset"
    if value == "":
        return "empty"
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
    for f in dataclasses.fields(TrackingConfig):
        meaning = f.metadata["help"]
        lines.append(f"| `{f.name}` | `{prc_name(f.name)}` | {_default(f.default)} | {meaning} |")
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
