"""`posetrack track SOURCE`: run the pipeline over a source and write the JSONL pose stream."""

import argparse
import statistics
import sys
import time
from contextlib import ExitStack

import esper

from posetrack.cli.characters import CharacterPoseWriter, PoseOutputs
from posetrack.cli.outputs import (
    StagedFile,
    check_outputs,
    check_overlay_kind,
    check_recordings,
)
from posetrack.cli.overlay import OverlayWriter, draw_poses
from posetrack.cli.progress import Progress
from posetrack.components import CameraFrame, StageTimes, TrackingConfig
from posetrack.downloads.fetch import say
from posetrack.errors import PosetrackError, SourceError
from posetrack.motion.vmc import VmcSender, parse_target
from posetrack.stages.sources import open_source, resolve_source
from posetrack.systems.pose_tracking import PoseTrackingSystem
from posetrack.systems.vmc_stream import VmcStreamSystem


def run_track(args: argparse.Namespace) -> int:
    config = TrackingConfig(
        source=args.source,
        model=args.model,
        device=args.device,
        preprocess=args.preprocess,
        decode=args.decode,
        smoothing=not args.no_smooth,
        fix_swaps=not getattr(args, "no_fix_swaps", False),
        max_poses=_max_poses(args),
    )
    source = resolve_source(config.source)
    check_outputs(source, args.out, args.overlay)  # before anything is opened or written
    vmc = getattr(args, "vmc", None)
    target = parse_target(vmc, "--vmc") if vmc is not None else None
    # the VMC stream sends a driven character: the one asked for, else the mannequin
    character = getattr(args, "character", None) or ("mannequin" if target else None)
    recordings = check_recordings(  # --bvh / --gltf: need a character, not an input or output
        source, character, getattr(args, "bvh", None), getattr(args, "gltf", None),
        (args.out, args.overlay))  # fmt: skip
    previous_world = esper.current_world
    esper.switch_world("posetrack-track")
    staged: list[StagedFile] = []
    recorded: list[StagedFile] = []
    try:
        with ExitStack() as stack:
            # every input and option first: the source, the model, the character
            frames = open_source(source, sequence=getattr(args, "sequence", False))
            stack.callback(frames.close)  # the tracker closes it too; closing twice is fine
            tracker = PoseTrackingSystem(frames, config)
            stack.callback(tracker.close)
            check_overlay_kind(args.overlay, tracker.source.frame_count)
            after = PoseOutputs(
                tracker.entity,
                # a folder's images are unrelated stills: nothing to smooth across
                smooth=config.smoothing and not tracker.source.stills,
                character=character,
                mirror=not getattr(args, "no_mirror", False),
                rig=args.rig,
                bone_depth=not getattr(args, "no_bone_depth", False),
            )
            stack.callback(after.close)
            stream = None
            if target is not None:  # run by the loop after the character, not by the tracker
                stream = VmcStreamSystem(tracker.entity, VmcSender(*target, notify=say))
                stack.callback(stream.close)
                say(f"streaming {character} over VMC to {stream.sender.target}")
            for notice in tracker.notices:
                say(notice)
            # then the outputs, under temporary names beside their targets
            staged = [StagedFile(path) for path in (args.out, args.overlay) if path]
            recorded = [StagedFile(path) for path in recordings]
            if recorded:  # the source's frame time; a camera that reports none: 30 fps
                after.start_recording(tracker.source.fps or 30.0)
            out = _open_output(staged[0] if args.out else None, stack)
            overlay = None
            if args.overlay:
                overlay = stack.enter_context(
                    OverlayWriter(staged[-1].temp, tracker.source.fps, tracker.source.size)
                )
            writer = CharacterPoseWriter(out, names=tracker.source.names)
            code = _track_loop(tracker, writer, overlay, args.max_frames, after, stream)
            for file in recorded:  # written after the run, off the frame loop
                after.recorder.write(file.temp, target=file.target)
    except BaseException:
        for file in staged + recorded:  # a failed run leaves the user's files as they were
            file.discard()
        raise
    finally:
        esper.switch_world(previous_world)
        esper.delete_world("posetrack-track")
    for file in staged + recorded:  # finished or interrupted (the summary says which): into place
        file.commit()
    return code


def _max_poses(args: argparse.Namespace) -> int:
    # multi-person models look for several people unless told otherwise; 6 is what
    # MoveNet MultiPose can return, and TF.js's PoseNet demos default to 5-10
    if args.max_poses is not None:
        return args.max_poses
    return 6 if args.model in ("posenet", "movenet-multipose") else 1


def _open_output(staged: StagedFile | None, stack: ExitStack):
    if staged is None:
        return sys.stdout
    try:
        return stack.enter_context(open(staged.temp, "w", encoding="utf-8"))
    except OSError as e:
        raise PosetrackError(
            f"cannot write the pose stream to {staged.target}: {e.strerror}"
        ) from e


def _track_loop(
    tracker: PoseTrackingSystem,
    writer: CharacterPoseWriter,
    overlay: OverlayWriter | None,
    max_frames: int | None,
    after: PoseOutputs,
    stream: VmcStreamSystem | None = None,
) -> int:
    source = tracker.source
    width, height = source.size
    writer.header(
        model=tracker.model.name,
        model_choice=tracker.model_choice.header(),  # auto: the timings it was chosen by
        keypoints=list(tracker.keypoint_names),
        width=width,
        height=height,
        fps=source.fps,
        backends=tracker.backends,
        corrections={"swaps": tracker.config.fix_swaps, **after.corrections},
        **after.header,  # "smoothing": what the filter runs; "character" when one is driven
    )
    total = (
        source.frame_count
        if max_frames is None
        else min(max_frames, source.frame_count or max_frames)
    )
    progress = Progress(total)
    stage_ms: dict[str, list[float]] = {}
    moved: dict[str, dict[str, list[int]]] = {"up": {}, "down": {}}  # host <-> GPU bytes
    frames = 0
    interrupted = False
    start = time.perf_counter()
    try:
        for result in tracker.results(max_frames):
            frames += 1
            start_after = time.perf_counter()
            result = after.write(writer, result)  # filter, drive the character, write
            stage_ms.setdefault(after.stage_name, []).append(
                (time.perf_counter() - start_after) * 1000.0
            )
            if stream is not None:  # --vmc: this frame's pose of the character, one bundle
                start_vmc = time.perf_counter()
                stream.process()
                stage_ms.setdefault("vmc", []).append((time.perf_counter() - start_vmc) * 1000.0)
            if overlay is not None:
                frame = esper.component_for_entity(tracker.entity, CameraFrame)
                overlay.write(draw_poses(frame.pixels, result))
            times = esper.component_for_entity(tracker.entity, StageTimes)
            for name, ms in times.ms.items():
                stage_ms.setdefault(name, []).append(ms)
            for direction, counts in (("up", times.bytes_up), ("down", times.bytes_down)):
                for name, count in counts.items():
                    moved[direction].setdefault(name, []).append(count)
            progress.update(frames)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: writing the summary of the frames so far")
    finally:
        progress.close()
    if stream is not None:  # the summary counts every bundle the thread has sent
        stream.sender.flush()
    elapsed = time.perf_counter() - start
    medians = {name: statistics.median(values) for name, values in stage_ms.items()}
    per_frame = {
        direction: {name: int(statistics.median(v)) for name, v in counts.items()}
        for direction, counts in moved.items()
    }
    writer.summary(
        frames,
        frames / elapsed if elapsed > 0 else 0.0,
        medians,
        gpu_bytes_per_frame=per_frame,  # medians: sent up, read back, by stage
        # capture -> pose ready, median and p95 over the last frames; frames skipped for a
        # newer one (a file: none, every frame is tracked; a camera: those that came in while
        # the last one was tracked)
        latency_ms={k: round(v, 2) for k, v in tracker.latency_ms().items() if k != "frames"},
        dropped_frames=tracker.dropped_frames,
        interrupted=interrupted,  # Ctrl+C: the stream holds the frames before it
        **_vmc_summary(stream),
    )
    if frames == 0:
        raise SourceError(f"{source} delivered no frames")
    return 0


def _vmc_summary(stream: VmcStreamSystem | None) -> dict[str, dict[str, object]]:
    """The summary's "vmc" field with --vmc: where to; bundles sent, failed, dropped unsent."""
    if stream is None:
        return {}
    sender = stream.sender
    counts = {"sent": sender.sent, "failed": sender.failed, "dropped": sender.dropped}
    return {"vmc": {"target": sender.target, **counts}}
