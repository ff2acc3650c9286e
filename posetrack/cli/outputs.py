"""The command's output files: checked before anything is written, written beside their target
under a temporary name, moved into place when the run ends (finished or interrupted), removed
when it fails. A user's file is never left half-written, never overwritten by a run that did
not start, and an input is never an output.
"""

import os
from pathlib import Path

from posetrack.errors import PosetrackError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def check_outputs(source: str, out: str | None, overlay: str | None) -> None:
    """Refuse an output that is the input (the same file, however spelled) or the other
    output; called before the tracker starts, so a refused run changes nothing."""
    outputs = {"--out": out, "--overlay": overlay}
    for flag, path in outputs.items():
        if path is not None and _same_file(path, source):
            raise PosetrackError(f"{flag} {path} is the input {source}: choose another file")
    if out is not None and overlay is not None and _same_file(out, overlay):
        raise PosetrackError(f"--out and --overlay are the same file ({out}): choose two")


def check_overlay_kind(overlay: str | None, frame_count: int | None) -> None:
    """An image overlay holds one frame: refuse it for a video, a camera or a folder."""
    if overlay is None or Path(overlay).suffix.lower() not in IMAGE_SUFFIXES:
        return
    if frame_count != 1:
        raise PosetrackError(
            f"--overlay {overlay} is an image, which holds one frame; this source has "
            f"{'an open-ended number of' if frame_count is None else frame_count} frames: "
            "write a .mp4"
        )


class StagedFile:
    """A target written as `.NAME.part-PID.SUFFIX` beside it (same folder: the final rename is
    atomic; same suffix: writers that choose a format by it still do), then `commit()`ted into
    place or `discard()`ed."""

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)
        folder = self.target.parent
        if not folder.is_dir():
            raise PosetrackError(f"cannot write {self.target}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise PosetrackError(f"cannot write {self.target}: folder {folder} is not writable")
        name = f".{self.target.stem}.part-{os.getpid()}{self.target.suffix}"
        self.temp = self.target.with_name(name)

    def commit(self) -> None:
        if self.temp.exists():
            os.replace(self.temp, self.target)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


def _same_file(a: str, b: str) -> bool:
    path_a, path_b = Path(a), Path(b)
    try:
        if path_a.exists() and path_b.exists():
            return os.path.samefile(path_a, path_b)
        return path_a.resolve() == path_b.resolve()
    except OSError:  # a name the system refuses (too long...): opening it will say so
        return False


def check_recordings(
    source: str,
    character: str | None,
    bvh: str | None,
    gltf: str | None,
    others: tuple[str | None, ...] = (),
) -> list[str]:
    """The motion files `posetrack track` is asked for, checked before anything is opened:
    they need a character, the right suffix, and may be no input and no other output."""
    asked = {"--bvh": bvh, "--gltf": gltf}
    given = {flag: path for flag, path in asked.items() if path is not None}
    if given and character is None:
        raise PosetrackError(
            f"{' and '.join(given)} {'record' if len(given) > 1 else 'records'} the driven "
            "character's motion: add --character mannequin (or a .gltf/.glb/.bam/.egg file)"
        )
    wanted = {"--bvh": (".bvh",), "--gltf": (".glb", ".gltf")}
    for flag, path in given.items():
        if Path(path).suffix.lower() not in wanted[flag]:
            raise PosetrackError(f"{flag} {path}: the file must end {' or '.join(wanted[flag])}")
        inputs = [source] + ([character] if Path(character).is_file() else [])
        for other in inputs:
            if _same_file(path, other):
                raise PosetrackError(f"{flag} {path} is the input {other}: choose another file")
        for other in [p for p in others if p] + [p for f, p in given.items() if f != flag]:
            if _same_file(path, other):
                raise PosetrackError(f"{flag} {path} is also another output: choose another file")
    return list(given.values())
