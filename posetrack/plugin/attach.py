"""`posetrack.init(base)`: pose tracking in a host game's Panda3D + esper loop, in one line.

    tracking = posetrack.init(base, source="webcam:0")
    tracking.drive(my_actor)      # optional: the pose drives a character
    tracking.record("take.bvh")   # optional: record it (.bvh/.glb/.gltf); stop_recording()
    ...
    tracking.result               # PoseResult of the newest frame; tracking.status says how
    tracking.close()              # camera thread, GL resources, ORT sessions, processor, task

No global side effects: the processor goes into the host's current esper world, the host's own
GL context is lent (a second one beside a game's window breaks its rendering:
posetrack/stages/gpu_context.py), no PRC page is left loaded, the world is never switched, and
`esper.process` is put on the task manager only when the host does not call it already.
"""

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import esper

from posetrack.components.character import FilterConfig
from posetrack.components.tracker import TrackingConfig
from posetrack.plugin.config import check_options, from_prc, validate
from posetrack.stages.gpu_context import GpuContext
from posetrack.stages.sources import resolve_source
from posetrack.systems.pose_tracking import PoseTrackingSystem

log = logging.getLogger("posetrack")

# esper runs higher priorities first: 1 puts tracking before the host's processors at the
# default 0, so those read this frame's pose, not the last one.
PRIORITY = 1
# Task sort of the esper.process task we add: after the host's tasks at the default sort 0 (so
# the check in _EsperTask sees a host that calls esper.process itself in the same frame) and
# after intervals (20) and collisions (30), before ShowBase renders the frame at sort 50.
TASK_SORT = 45


def init(
    base: Any,
    config: TrackingConfig | None = None,
    *,
    schedule: bool | None = None,
    priority: int = PRIORITY,
    live: bool = True,
    **overrides: Any,
) -> PoseTrackingSystem:
    """Start pose tracking inside a running ShowBase; returns the PoseTrackingSystem.

    `config`: a TrackingConfig used as is; without one, the `posetrack-*` PRC variables fill in
    what `overrides` (source=, model=, device=, preprocess=, decode=, smoothing=, max_poses=,
    vmc="127.0.0.1:39539" to stream over the VMC protocol) leave out (plugin/config.py).
    `schedule`: True adds a task that calls `esper.process()` every frame, False never does
    (you call it), None (auto) adds it unless a task of the host already calls esper.process,
    and drops it as soon as the host is seen calling it.
    `live`: True (the default) runs the pose stages on a worker thread, newest frame wins, so
    the host's frame pays only the hand-over and the characters (a file plays at its own frame
    rate, as a camera would); False runs one frame per host frame in the host's thread, every
    frame in order (lockstep: for tests and scripted captures).
    Raises PosetrackError (SourceError, ModelError) when the camera or the model cannot be
    set up; after that, failures degrade (tracking.status) instead of raising.
    """

    if isinstance(overrides.get("source"), os.PathLike):  # a pathlib.Path names a file too
        overrides["source"] = os.fspath(overrides["source"])
    if config is None:
        config = from_prc(**overrides)
    else:
        config = replace(config, **check_options(overrides))
        validate(config)
    smoothing = FilterConfig() if config.smoothing else FilterConfig(mode="none")
    system = PoseTrackingSystem(
        resolve_source(config.source),
        config,
        gpu_context=_lend_context(base),
        filter_config=smoothing,
        degrade=True,  # the host's frame loop goes on whatever fails
        live=live,
    )
    try:
        for notice in system.notices:
            log.info("posetrack: %s", notice)
        esper.add_processor(system, priority)
        system.call_on_close(lambda: _remove_processor(system))
        if schedule or (schedule is None and not host_runs_esper(base.taskMgr)):
            task = _EsperTask(system, auto=schedule is None)
            added = base.taskMgr.add(task, f"posetrack-esper-{id(system):x}", sort=TASK_SORT)
            task.remove = lambda: base.taskMgr.remove(added)
            system.call_on_close(task.stop)
    except BaseException:
        system.close()
        raise
    return system


def host_runs_esper(task_mgr: Any) -> bool:
    """True when a task of `task_mgr` calls esper.process (itself, or a function whose code
    calls it by name: `esper.process(...)` or `process(...)` imported from esper)."""
    return any(_calls_esper_process(task) for task in task_mgr.getAllTasks())


class _EsperTask:
    """The task that calls esper.process() once a frame for a host that does not.

    auto: if anyone else ran the tracker since our last call (the host calls esper.process
    after all), stop, so no processor of the host runs twice a frame.
    """

    def __init__(self, system: PoseTrackingSystem, auto: bool) -> None:
        self.system = system
        self.auto = auto
        self._seen = system.process_calls
        self.remove: Callable[[], object] = lambda: None  # takes the task off the manager
        self._stopped = self._running = False

    def stop(self) -> None:
        """Called by tracking.close(): the task leaves the task manager now, or, when close()
        runs inside this very task (a processor of the game's that closes tracking and
        quits), ends itself when it returns. A task removed while it runs drops the exception
        it ends with: measured, the SystemExit of base.userExit() got lost and the game ran on
        forever, on about one run in two of examples/my_game.py on a loaded machine."""
        self._stopped = True
        if not self._running:
            self.remove()

    def __call__(self, task: Any) -> int:
        if self._stopped:
            return task.done
        if self.auto and self.system.process_calls != self._seen:
            log.info("posetrack: the game calls esper.process itself; not calling it again")
            return task.done
        self._running = True
        try:
            esper.process()
        finally:
            self._running = False
        self._seen = self.system.process_calls
        return task.done if self._stopped else task.cont


def _lend_context(base: Any) -> object | None:
    """The host's GL context (None when its ShowBase has no window: then there is no GL
    context to share, and a GPU path opens its own headless one)."""
    win = getattr(base, "win", None)
    gsg = win.get_gsg() if win is not None else None
    if gsg is None or not gsg.is_valid():
        return None

    return GpuContext.from_showbase(base)


def _remove_processor(system: PoseTrackingSystem) -> None:
    if esper.get_processor(type(system)) is system:
        esper.remove_processor(type(system))
    elif system in esper._processors:
        # esper 3 removes by type only, and this type's slot holds another tracker: remove
        # this instance from the world's processor list directly
        esper._processors.remove(system)


def _calls_esper_process(task: Any) -> bool:
    function = task.getFunction() if hasattr(task, "getFunction") else None
    function = getattr(function, "__func__", function)  # a bound method's function
    if function is None:
        return False
    if function is esper.process:
        return True
    code = getattr(function, "__code__", None)
    names = getattr(function, "__globals__", {})
    if code is None:
        return False
    used = set(_names(code))
    esper_names = {n for n in used if names.get(n) is esper}
    direct = {n for n in used if names.get(n) is esper.process}
    return bool(direct) or (bool(esper_names) and "process" in used)


def _names(code: Any) -> list[str]:
    """Global and attribute names a code object (and the functions nested in it) uses."""
    found = list(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            found += _names(const)
    return found
