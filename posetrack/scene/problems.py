"""What is wrong with a scene file: one Problem per fault, all of them in one SceneError."""

from dataclasses import dataclass

from posetrack.errors import PosetrackError


@dataclass(frozen=True)
class Problem:
    """One fault: the file as it was named, the line (1-based), the field path, what is wrong.

    `str(problem)` is the line `posetrack scene validate` prints:
    `demo.toml:12: entity[1].character.scale: must be > 0, got -1`.
    """

    file: str
    line: int
    path: str  # `entity[1].character.scale`; "" for the file as a whole (a syntax error)
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class SceneError(PosetrackError):
    """A scene file that cannot be loaded; `problems` lists every fault found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
