"""`posetrack scene validate FILE...` and `posetrack scene schema [--out FILE]`."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from posetrack.scene.schema import json_schema
from posetrack.scene.validate import validate_scene


def add_scene_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `scene` command to the `posetrack` command's subparsers."""
    scene = subparsers.add_parser(
        "scene",
        help="validate scene files, print their JSON Schema",
        description="Scene files: TOML files of entities and their components "
        "(docs/scene-files.md).",
    )
    verbs = scene.add_subparsers(dest="verb", required=True, metavar="VERB")
    validate = verbs.add_parser(
        "validate",
        help="report every problem of scene files (exit status 1 if any)",
        description="Print every problem as FILE:LINE: FIELD.PATH: message; "
        "'FILE: ok' for a good file. Exit status 1 when any file has a problem.",
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE", help="scene files")
    schema = verbs.add_parser(
        "schema",
        help="print the scene files' JSON Schema (draft 2020-12)",
        description="The JSON Schema generated from the component dataclasses, for editors "
        "(Taplo / Even Better TOML: put '#:schema FILE' on a scene file's first line).",
    )
    schema.add_argument("--out", type=Path, metavar="FILE", help="write it here, not to stdout")
    return scene


def run_scene(args: argparse.Namespace) -> int:
    """Run a parsed `posetrack scene ...` command; the exit status."""
    if args.verb == "schema":
        text = schema_text()
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.write_text(text, encoding="utf-8")
            print(f"wrote {args.out}", file=sys.stderr)
        return 0
    status = 0
    for file in args.files:
        problems = validate_scene(file)
        for problem in problems:
            print(problem)
        if problems:
            status = 1
        else:
            print(f"{file}: ok")
    return status


def schema_text() -> str:
    """The schema as the file `posetrack scene schema` writes (indented, final newline)."""
    return json.dumps(json_schema(), indent=2) + "\n"
