"""Two people on one camera: which multi-person model finds both, and how often the players'
labels switch, with and without the identity stage (posetrack/stages/identity.py).

For each model and clip (Pose2Sim's two-person clips, 4 views x 100 frames at 60 fps, and
OpenCV's two basketball photos): the tracker runs with max_poses = 2 and the identity stage
off (the model's own order, best first); the identity stage then runs over those same poses,
as the pipeline runs it. Columns:

- both: frames with two *players* found: poses of good score (mean keypoint confidence >=
  GOOD) and player size (torso length, shoulders to hips, at least PLAYER_TORSO of the frame's
  height: the two people in front measure 141-317 px on the 1920 px clips, the third person at
  the back at most 130 px);
- extra: frames where the model gave a pose that is not one of the two players (the person
  at the back, or a second pose on one person: torso centres within half a torso length);
- conf: mean keypoint confidence of the players' poses (each model's own calibration);
- ms: median of preprocess + inference + decode per frame (CPU; the models take turns clip
  by clip, so both see the same load on a shared machine);
- switches/min, raw and with the identity stage (posetrack/stages/identity_metrics.py says
  what a switch is), over the clip's length.

    .venv/bin/python benchmarks/identity_switches.py [--models posenet movenet-multipose]
        [--clips ...] [--device cpu]
"""

import argparse
import statistics

import esper
import numpy as np

from posetrack.components import PoseResult, StageTimes, TrackingConfig
from posetrack.downloads.samples import sample_path
from posetrack.stages.identity import IdentityState, assign_players, body_of
from posetrack.stages.identity_metrics import switch_frames
from posetrack.systems.pose_tracking import PoseTrackingSystem

MODELS = ("posenet", "movenet-multipose")
CLIPS = tuple(f"pose2sim-multi-cam0{i}.mp4" for i in range(1, 5)) + (
    "basketball1.png", "basketball2.png",
)  # fmt: skip
GOOD = 0.3  # mean keypoint confidence of a usable pose (the models' drawing threshold)
PLAYER_TORSO = 0.07  # torso length / frame height: a player, not the person at the back
MODEL_STAGES = ("preprocess", "inference", "decode")


def raw_results(model: str, clip: str, device: str) -> tuple[list[PoseResult], list[float], int]:
    """The model's poses (identity stage off), model ms per frame, and the frame height."""
    config = TrackingConfig(model=model, device=device, preprocess="cpu", decode="cpu",
                            smoothing=False)  # fmt: skip
    tracker = PoseTrackingSystem(str(sample_path(clip)), config, max_poses=2)
    tracker.identity = None
    results, ms = [], []
    try:
        for result in tracker.results():
            results.append(result)
            times = esper.component_for_entity(tracker.entity, StageTimes)
            ms.append(sum(times.ms.get(s, 0.0) for s in MODEL_STAGES))
        height = tracker.source.size[1]
    finally:
        tracker.close()
    return results, ms, height


def with_identity(results: list[PoseResult]) -> list[PoseResult]:
    state = IdentityState(2)
    return [assign_players(state, r) for r in results]


def players(result: PoseResult, height: int) -> tuple[int, int, list[float]]:
    """(players found, other poses, the players' mean confidences) on one frame."""
    found, confs, bodies = 0, [], []
    for pose in result.poses:
        body = body_of(pose, result.keypoint_names)
        conf = float(np.mean(pose.keypoints[:, 2]))
        duplicate = body is not None and any(
            np.linalg.norm(body.centre - b.centre) < 0.5 * b.size for b in bodies
        )
        big = body is not None and body.size >= PLAYER_TORSO * height
        if big and conf >= GOOD and not duplicate:
            found += 1
            confs.append(conf)
            bodies.append(body)
    return found, len(result.poses) - found, confs


def measure(model: str, clip: str, device: str) -> dict:
    results, ms, height = raw_results(model, clip, device)
    counts = [players(r, height) for r in results]
    minutes = (results[-1].time - results[0].time) / 60.0 if len(results) > 1 else 0.0
    row = {
        "model": model, "clip": clip, "frames": len(results),
        "both": sum(f >= 2 for f, _, _ in counts),
        "extra": sum(e > 0 for _, e, _ in counts),
        "conf": statistics.fmean(c for _, _, cs in counts for c in cs),
        "ms": statistics.median(ms[1:] or ms),
        "minutes": minutes,
    }  # fmt: skip
    if minutes > 0:
        row["raw"] = len(switch_frames(results))
        row["identity"] = len(switch_frames(with_identity(results)))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--clips", nargs="+", default=list(CLIPS))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    # models alternate clip by clip: both see the same machine load (ms column)
    rows = [measure(m, c, args.device) for c in args.clips for m in args.models]
    print(f"{'model':18} {'clip':26} {'both':>9} {'extra':>6} {'conf':>5} {'ms':>6} "
          f"{'switches raw':>13} {'identity':>9}")  # fmt: skip
    for m in args.models:
        mine = [r for r in rows if r["model"] == m]
        for r in mine:
            sw = ("", "")
            if "raw" in r:
                sw = (f"{r['raw']} ({r['raw'] / r['minutes']:.0f}/min)",
                      f"{r['identity']} ({r['identity'] / r['minutes']:.0f}/min)")  # fmt: skip
            print(f"{m:18} {r['clip']:26} {r['both']:>4}/{r['frames']:<4} {r['extra']:>6} "
                  f"{r['conf']:5.2f} {r['ms']:6.1f} {sw[0]:>13} {sw[1]:>9}")  # fmt: skip
        clips = [r for r in mine if "raw" in r]
        minutes = sum(r["minutes"] for r in clips)
        if minutes > 0:
            raw, ident = sum(r["raw"] for r in clips), sum(r["identity"] for r in clips)
            both = sum(r["both"] for r in clips)
            frames = sum(r["frames"] for r in clips)
            print(f"{m:18} {'all clips':26} {both:>4}/{frames:<4} "
                  f"{sum(r['extra'] for r in clips):>6} {'':5} {'':6} "
                  f"{raw / minutes:>9.0f}/min {ident / minutes:>5.0f}/min")  # fmt: skip


if __name__ == "__main__":
    main()
