"""Load a scene file into entities holding component instances (posetrack.components.scene)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from posetrack.components.scene import COMPONENTS
from posetrack.scene.problems import SceneError
from posetrack.scene.schema import field_infos
from posetrack.scene.validate import check_file, check_text

C = TypeVar("C")


@dataclass
class Entity:
    """One `[[entity]]`: its name and its components by table name (`"character"`, ...)."""

    name: str
    components: dict[str, Any] = field(default_factory=dict)

    def get(self, kind: type[C]) -> C | None:
        """The component of this type, or None."""
        return next((c for c in self.components.values() if isinstance(c, kind)), None)


@dataclass
class Scene:
    """A loaded scene. Asset paths in components are as written: `resolve` makes them usable."""

    path: Path
    name: str = ""
    description: str = ""
    entities: list[Entity] = field(default_factory=list)

    def entity(self, name: str) -> Entity:
        """The entity of this name (KeyError naming the known ones if none)."""
        for entity in self.entities:
            if entity.name == name:
                return entity
        raise KeyError(f"no entity {name!r}; entities: {', '.join(e.name for e in self.entities)}")

    def all(self, kind: type[C]) -> list[tuple[Entity, C]]:
        """(entity, component) for every entity that has a component of this type, in order."""
        return [(e, c) for e in self.entities if (c := e.get(kind)) is not None]

    def first(self, kind: type[C]) -> C | None:
        """The first entity's component of this type, or None."""
        found = self.all(kind)
        return found[0][1] if found else None

    def resolve(self, relative: str) -> Path:
        """A file path written in the scene, relative to the scene file's folder."""
        return (self.path.parent / relative).expanduser()


def load_scene(path: str | Path) -> Scene:
    """The scene at `path`; raises SceneError listing every problem when it is not valid."""
    problems, data = check_file(path)
    if problems or data is None:
        raise SceneError(problems)
    return build_scene(Path(path), data)


def load_scene_text(text: str, path: str | Path) -> Scene:
    """The scene in `text`, as if read from `path` (for file names and relative assets)."""
    problems, data = check_text(text, str(path), Path(path).resolve().parent)
    if problems or data is None:
        raise SceneError(problems)
    return build_scene(Path(path), data)


def build_scene(path: Path, data: dict) -> Scene:
    """A Scene from validated TOML data (ints as floats where the field is a float)."""
    entities = []
    for raw in data.get("entity", []):
        components = {
            table: _component(COMPONENTS[table], values)
            for table, values in raw.items()
            if table != "name"
        }
        entities.append(Entity(raw["name"], components))
    return Scene(path.resolve(), data.get("name", ""), data.get("description", ""), entities)


def _component(cls: type, values: dict) -> Any:
    kinds = {info.name: info.kind for info in field_infos(cls)}
    converted = {}
    for key, value in values.items():
        if kinds[key] == "float":
            value = float(value)
        elif kinds[key] == "vector":
            value = tuple(float(v) for v in value)
        converted[key] = value
    return cls(**converted)
