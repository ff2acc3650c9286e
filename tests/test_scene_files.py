"""Scene files: the shipped scenes, the generated JSON Schema, the validator's problems (file,
line, field path) and saving edits back with comments kept."""

import dataclasses
import json
import tomllib
from pathlib import Path

import pytest

from posetrack.characters.presets import builtin_presets
from posetrack.cli.main import build_parser
from posetrack.cli.main import main as cli_main
from posetrack.components.character import FilterConfig
from posetrack.components.scene import COMPONENTS, Character, Filter, GameRules, Hud
from posetrack.components.tracker import TrackingConfig
from posetrack.scene import SceneError, json_schema, load_scene, update_scene_file, validate_scene
from posetrack.scene.commands import add_scene_parser, run_scene, schema_text
from posetrack.scene.locate import scan

SCENES = Path(__file__).resolve().parent.parent / "posetrack" / "assets" / "scenes"
SHIPPED = [SCENES / "demo.toml", SCENES / "minimal.toml"]

BAD_SCENE = """\
name = "bad"
colour = "red"

[[entity]]
name = "cam"
source.uri = "missing.mp4"

[[entity]]
name = "cam"

[entity.tracker]
model = "posenett"
device = "gpuu"
max_poses = 0

[entity.charcter]
scale = 2

[[entity]]
name = "player"
character = { kind = "robot.gltf", scal = 1, preset = "mixamoo" }

[entity.hud]
fps = "yes"
pip_size = 1.5

[[entity]]
[entity.character]
scale = -1
position = [1, 2]
tracker = "nobody"
"""

# (line, field path, the message's start): every kind of problem, in the file's order
BAD_EXPECTED = [
    (2, "colour", 'unknown top-level key "colour"'),
    (6, "entity[0].source.uri", "file not found: missing.mp4"),
    (9, "entity[1].name", '"cam" is also the name of entity[0]'),
    (12, "entity[1].tracker.model", 'unknown pose model "posenett" (did you mean "posenet"?)'),
    (13, "entity[1].tracker.device", 'must be one of auto, cpu, cuda, got "gpuu"'),
    (14, "entity[1].tracker.max_poses", "must be >= 1, got 0"),
    (16, "entity[1].charcter", 'unknown component "charcter" (did you mean "character"?)'),
    (21, "entity[2].character.kind", "file not found: robot.gltf"),
    (21, "entity[2].character.scal", 'unknown field "scal" (did you mean "scale"?)'),
    (21, "entity[2].character.preset", 'unknown rig preset "mixamoo" (did you mean "mixamo"?)'),
    (24, "entity[2].hud.fps", 'must be true or false, got "yes"'),
    (25, "entity[2].hud.pip_size", "must be <= 1, got 1.5"),
    (27, "entity[3]", "has no name"),
    (29, "entity[3].character.scale", "must be > 0, got -1"),
    (30, "entity[3].character.position", "must be an array of 3 numbers, got an array [1, 2]"),
    (31, "entity[3].character.tracker", 'no entity "nobody" with a tracker component'),
]


@pytest.mark.parametrize("scene", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenes_validate_clean(scene: Path) -> None:
    assert validate_scene(scene) == []


def test_demo_scene_declares_what_the_game_needs() -> None:
    scene = load_scene(SCENES / "demo.toml")
    assert scene.entity("camera").components["source"].fallback == "sample:sports2d-demo.mp4"
    assert scene.first(TrackingConfig).model == "auto"
    assert scene.first(Filter).min_cutoff == 0.05
    kinds = {c.kind: c for _, c in scene.all(Character)}
    assert set(kinds) == {"mannequin", "sprite"}
    assert kinds["mannequin"].preset in builtin_presets()
    assert isinstance(kinds["sprite"].scale, float) and kinds["sprite"].scale > 0
    assert kinds["sprite"].min_cutoff == 0.1
    assert scene.first(Hud).camera_pip
    assert scene.first(GameRules).round_s == 60.0


def test_validator_reports_every_problem_with_line_and_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_SCENE)
    problems = validate_scene(path)
    got = [(p.line, p.path) for p in problems]
    assert got == [(line, field) for line, field, _ in BAD_EXPECTED]
    for problem, (line, field, start) in zip(problems, BAD_EXPECTED, strict=True):
        assert problem.message.startswith(start), problem
        assert str(problem).startswith(f"{path}:{line}: {field}: {start}")
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    assert caught.value.problems == problems


def test_out_of_range_message_format(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text('[[entity]]\nname = "p"\n\n[entity.character]\nscale = -1\n')
    (problem,) = validate_scene(path)
    assert str(problem) == f"{path}:5: entity[0].character.scale: must be > 0, got -1"


def test_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text('[[entity]]\nname = "a"\n# fine so far\nscale = = 2\n')
    (problem,) = validate_scene(path)
    assert problem.line == 4 and problem.message.startswith("TOML syntax:"), problem


def test_model_file_and_preset_file_paths_resolve_next_to_the_scene(tmp_path: Path) -> None:
    (tmp_path / "hero.bam").write_bytes(b"")
    (tmp_path / "hero-rig.toml").write_text('name = "hero"\n[joints]\nhips = "pelvis"\n')
    path = tmp_path / "own.toml"
    path.write_text('[[entity]]\nname = "hero"\ncharacter.kind = "hero.bam"\n'
                    'character.preset = "hero-rig.toml"\n')  # fmt: skip
    assert validate_scene(path) == []
    assert load_scene(path).resolve("hero.bam") == tmp_path / "hero.bam"


def test_lines_after_multiline_values(tmp_path: Path) -> None:
    text = (
        'description = """\nline one\n[[entity]] is not a header in here\n"""\n'
        "[[entity]]\n"
        'name = "p"  # comment with = and [brackets]\n'
        "character.position = [\n  0.0,  # x\n  1.0,\n  2.0,\n]\n"
        "character.scale = 0\n"
    )
    layout = scan(text)
    assert layout.keys["entity[0].character.scale"].line == 12
    assert layout.tables["entity[0]"].line == 5
    path = tmp_path / "m.toml"
    path.write_text(text)
    assert [(p.line, p.path) for p in validate_scene(path)] == [(12, "entity[0].character.scale")]


def test_schema_is_generated_from_the_dataclasses() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    entity = schema["$defs"]["Entity"]
    assert entity["required"] == ["name"] and entity["additionalProperties"] is False
    assert set(entity["properties"]) == {"name", *COMPONENTS}
    for table, cls in COMPONENTS.items():
        component = schema["$defs"][cls.__name__]
        assert entity["properties"][table] == {"$ref": f"#/$defs/{cls.__name__}"}
        assert component["additionalProperties"] is False
        # a field set elsewhere in a scene (the tracker's source: the Source component) is out
        fields = [f for f in dataclasses.fields(cls) if f.metadata.get("scene") is not False]
        assert set(component["properties"]) == {f.name for f in fields}
        for f in fields:
            prop = component["properties"][f.name]
            assert prop["description"], (table, f.name)
            if f.default is not None:
                expected = list(f.default) if isinstance(f.default, tuple) else f.default
                assert prop["default"] == expected, (table, f.name)
    character = schema["$defs"]["Character"]["properties"]
    assert character["scale"]["exclusiveMinimum"] == 0
    assert character["beta"]["minimum"] == 0
    assert character["position"]["prefixItems"] == [{"type": "number"}] * 3
    assert character["kind"]["anyOf"][0]["enum"] == ["mannequin", "sprite"]
    tracker = schema["$defs"]["TrackingConfig"]["properties"]
    assert tracker["device"]["enum"] == ["auto", "cpu", "cuda"]
    assert "posenet" in tracker["model"]["enum"] and "pose-detector" not in tracker["model"]["enum"]
    assert schema["$defs"]["Hud"]["properties"]["pip_size"]["maximum"] == 1


def test_schema_validates_the_shipped_scenes_and_rejects_a_bad_one(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="dev dependency jsonschema>=4.18")
    validator = jsonschema.Draft202012Validator(json_schema())
    validator.check_schema(json_schema())
    for scene in SHIPPED:
        assert list(validator.iter_errors(tomllib.loads(scene.read_text()))) == [], scene
    errors = list(validator.iter_errors(tomllib.loads(BAD_SCENE)))
    assert len(errors) >= 10  # everything but the file checks and the tracker reference


def test_shipped_schema_file_is_current() -> None:
    """posetrack/assets/scenes/scene.schema.json is what `posetrack scene schema` prints (the
    scenes' `#:schema` line points editors at it); regenerate it with --out when this fails."""
    assert (SCENES / "scene.schema.json").read_text() == schema_text()


def test_components_mirror_the_runtime_configs() -> None:
    def defaults(cls: type) -> dict:
        return {f.name: f.default for f in dataclasses.fields(cls)}

    assert COMPONENTS["tracker"] is TrackingConfig  # the runtime type itself
    assert defaults(Filter) == defaults(FilterConfig)


def test_cli_validate_and_schema(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_scene_parser(parser.add_subparsers(dest="command"))
    good, bad = SCENES / "minimal.toml", tmp_path / "bad.toml"
    bad.write_text(BAD_SCENE)
    assert run_scene(parser.parse_args(["scene", "validate", str(good)])) == 0
    assert capsys.readouterr().out == f"{good}: ok\n"
    assert run_scene(parser.parse_args(["scene", "validate", str(good), str(bad)])) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{good}: ok" and len(lines) == 1 + len(BAD_EXPECTED)
    out = tmp_path / "schema.json"
    assert run_scene(parser.parse_args(["scene", "schema", "--out", str(out)])) == 0
    assert json.loads(out.read_text()) == json_schema()
    if "scene" in build_parser().format_help():  # once cli.py wires the command in
        assert cli_main(["scene", "validate", str(good)]) == 0


def test_update_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    original = (SCENES / "demo.toml").read_text()
    path.write_text(original)
    scene = update_scene_file(
        path,
        {
            "entity[2].character.scale": 1.25,  # by index
            "sprite.character.mirror": False,  # by entity name
            "filter.beta": 60.0,  # the first entity with a filter table
            "tracker.model": "posenet",
            "entity[player].character.root_motion_scale": 0.5,  # not in the file: added
            "entity[player].character.preset": None,  # removed: back to detection
        },
    )
    text = path.read_text()
    old_lines, new_lines = original.splitlines(), text.splitlines()
    comments = [line for line in old_lines if line.lstrip().startswith("#")]
    assert comments == [line for line in new_lines if line.lstrip().startswith("#")]
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=False) if a != b]
    assert ('model = "auto"             # the best BlazePose this machine keeps up with (3D '
            'for the mannequin)', 'model = "posenet"          # the best BlazePose this '
            'machine keeps up with (3D for the mannequin)') in changed  # fmt: skip
    assert 'preset = "mannequin"' not in text and "root_motion_scale = 0.5\n" in text
    assert len(new_lines) == len(old_lines)  # one line removed, one added
    player = load_scene(path).entity("player").get(Character)
    assert (player.scale, player.preset, player.root_motion_scale) == (1.25, None, 0.5)
    assert load_scene(path).entity("sprite").get(Character).mirror is False
    assert scene.first(Filter).beta == 60.0 and scene.first(TrackingConfig).model == "posenet"


def test_update_adds_a_component_table_and_edits_inline_tables(tmp_path: Path) -> None:
    path = tmp_path / "minimal.toml"
    path.write_text((SCENES / "minimal.toml").read_text())
    update_scene_file(path, {"player.character.scale": 0.8, "player.hud.fps": False})
    text = path.read_text()
    assert 'character = { kind = "mannequin", scale = 0.8 }' in text
    assert text.endswith("\n[entity.hud]\nfps = false\n")
    assert load_scene(path).entity("player").get(Hud).fps is False


def test_update_with_a_bad_value_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text((SCENES / "demo.toml").read_text())
    before = path.read_bytes()
    with pytest.raises(SceneError) as caught:
        update_scene_file(path, {"entity[2].character.scale": -1.0})
    (problem,) = caught.value.problems
    assert problem.path == "entity[2].character.scale" and "must be > 0" in problem.message
    assert path.read_bytes() == before


TRICKY_TOML = """\
"quoted key" = 'lit # not comment'
a.b."c" = 1_000   # dotted, a quoted part
s = "esc \\" quote # not comment"   # c
ml = \"\"\"
multi " "" line
[[entity]] not a header
\"\"\"
arr = [ [1, 2], { x = 1 }, "a]" , # comment ]
  3 ]
date = 1979-05-27 07:32:00Z   # a date-time
[[entity]]
name = "e0"
inl = { p = { q = [1, 2] }, r = "}" }
  [entity.character]
  scale = 2e3
[tbl."sub table"]
k = true
"""


def test_locator_spans_hold_the_values_tomllib_reads() -> None:
    data, layout = tomllib.loads(TRICKY_TOML), scan(TRICKY_TOML)

    def value(path: str) -> object:
        node: object = data
        for part in path.replace("[", ".[").split("."):
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]  # type: ignore[index]
        return node

    expected_lines = {"a.b.c": 2, "ml": 4, "arr": 8, "date": 10, "entity[0].inl.p.q": 13,
                      "entity[0].character.scale": 15, "tbl.sub table.k": 17}  # fmt: skip
    assert {p: layout.keys[p].line for p in expected_lines} == expected_lines
    assert not any("x" == p.rpartition(".")[2] for p in layout.keys)  # inside an array: skipped
    for path, loc in layout.keys.items():
        span = TRICKY_TOML[loc.start : loc.end]
        assert tomllib.loads(f"x = {span}")["x"] == value(path), path
