"""Hot reload: watch a scene file and hand the game each good version of it.

No thread and no extra dependency: the game calls `poll()` from a task (every frame is fine: a
stat() call while nothing changed). A changed file is read and hashed; new content is loaded:
valid -> `on_change(scene)`, invalid -> `on_error(problems)` with the same problems `posetrack
scene validate` prints, and `scene` stays the last good one.
"""

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from posetrack.scene.load import Scene, load_scene_text
from posetrack.scene.problems import Problem, SceneError

# A file modified this recently may be modified again within the same mtime tick with the same
# size (editors and tests can save twice in a few ms); within this window poll() hashes the
# content even when stat() looks unchanged. 2 s covers filesystems with a 1-2 s mtime grain.
RACY_WINDOW_S = 2.0


class SceneWatcher:
    """Polls one scene file; calls `on_change` with each new valid scene, `on_error` with the
    problems of each new invalid version (once per version, not once per poll).

    `scene`: a scene the caller already loaded from this file; the watcher then reports only
    later changes. Without it the first poll loads the file and reports it.
    """

    def __init__(
        self,
        path: str | Path,
        on_change: Callable[[Scene], None],
        on_error: Callable[[list[Problem]], None],
        scene: Scene | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_change = on_change
        self.on_error = on_error
        self.scene = scene  # the last good scene
        self._stat: tuple[int, int] | None = None
        self._digest: bytes | None = None
        if scene is not None:
            self._stat, content = self._read()
            self._digest = None if content is None else hashlib.sha256(content).digest()

    def poll(self) -> bool:
        """Look at the file once; True when a callback was called."""
        try:
            st = os.stat(self.path)
        except OSError as e:
            return self._report_missing(e)
        stat = (st.st_mtime_ns, st.st_size)
        racy = time.time() - st.st_mtime_ns / 1e9 < RACY_WINDOW_S
        if stat == self._stat and not racy:
            return False
        self._stat, content = self._read()
        if content is None:
            return False  # gone between stat and read: the next poll reports it
        digest = hashlib.sha256(content).digest()
        if digest == self._digest:
            return False
        self._digest = digest
        return self._load(content)

    def task(self, task: object) -> object:
        """A Panda3D task body: `base.task_mgr.add(watcher.task, "scene-reload")`."""
        self.poll()
        return task.cont  # type: ignore[attr-defined]

    def _load(self, content: bytes) -> bool:
        try:
            scene = load_scene_text(content.decode("utf-8"), self.path)
        except UnicodeDecodeError as e:
            self.on_error([Problem(str(self.path), 1, "", f"not UTF-8 text: {e}")])
            return True
        except SceneError as e:
            self.on_error(e.problems)
            return True
        self.scene = scene
        self.on_change(scene)
        return True

    def _read(self) -> tuple[tuple[int, int] | None, bytes | None]:
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                return (st.st_mtime_ns, st.st_size), f.read()
        except OSError:
            return None, None

    def _report_missing(self, error: OSError) -> bool:
        if self._digest == b"missing":
            return False
        self._stat, self._digest = None, b"missing"
        reason = error.strerror or str(error)
        self.on_error([Problem(str(self.path), 1, "", f"cannot read the scene file: {reason}")])
        return True
