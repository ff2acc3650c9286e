"""The `posetrack` command: track poses in a video, image, folder or webcam; manage models."""

import argparse
import sys
import typing
from collections.abc import Sequence

from posetrack.cli.guard import run_guarded
from posetrack.components.tracker import TrackingConfig
from posetrack.plugin.config import help_of

HINTS = typing.get_type_hints(TrackingConfig)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posetrack",
        description="Webcam pose tracking for Panda3D games: track poses, manage models.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    track = commands.add_parser(
        "track",
        help="track poses in a video, image, folder of images or webcam",
        description="Track poses and write the JSONL pose stream (header, one line per frame, "
        "summary). Progress goes to stderr.",
    )
    track.add_argument(
        "source",
        metavar="SOURCE",
        help="video file, image, folder of images, webcam:N, or sample:NAME "
        "(a bundled sample clip, e.g. sample:sports2d-demo.mp4)",
    )
    # the tracker's settings, from its one settings type (components/tracker.py)
    defaults = TrackingConfig()
    for name in ("model", "device", "preprocess", "decode"):
        track.add_argument(f"--{name}", default=getattr(defaults, name),
                           choices=typing.get_args(HINTS[name]) or None,
                           help=f"{help_of(name)} (default: %(default)s)")  # fmt: skip
    track.add_argument("--no-smooth", action="store_true",
                       help=f"turn off the {help_of('smoothing')}: every frame is the "
                       "model's raw answer")  # fmt: skip
    track.add_argument("--no-fix-swaps", action="store_true",
                       help="turn off the left/right swap correction (stages/swaps.py): the "
                       "model's labels as they come")  # fmt: skip
    track.add_argument("--character", metavar="NAME",
                       help="drive this character (mannequin, or a .gltf/.glb/.bam/.egg file) "
                       "with each pose and add its joint positions to the pose as "
                       "\"character\"")  # fmt: skip
    track.add_argument("--rig", metavar="PRESET",
                       help="rig preset for --character FILE (default: detected from its "
                       "joint names)")  # fmt: skip
    track.add_argument("--no-mirror", action="store_true",
                       help="drive the character unmirrored (default: mirrored, as a webcam "
                       "user expects)")  # fmt: skip
    track.add_argument("--bvh", metavar="OUT.bvh",
                       help="record the --character's motion as BVH (its joints, rest offsets, "
                       "one frame per source frame)")  # fmt: skip
    track.add_argument("--gltf", metavar="OUT.glb",
                       help="record the --character's motion as a glTF animation on its mesh "
                       "(.glb or .gltf)")  # fmt: skip
    track.add_argument("--vmc", metavar="HOST:PORT",
                       help="stream the character (--character, else the mannequin) live over "
                       "the VMC protocol (OSC/UDP) to a receiver such as VSeeFace or Unity "
                       "(EVMC4U), e.g. 127.0.0.1:39539")  # fmt: skip
    track.add_argument("--no-bone-depth", action="store_true",
                       help="drive the character's limbs straight from the world landmarks "
                       "(default: directions from the 2D keypoints, depth from bone "
                       "lengths)")  # fmt: skip
    track.add_argument("--max-frames", type=_positive, metavar="N", help="stop after N frames")
    track.add_argument("--sequence", action="store_true",
                       help="a folder's images are a video's frames, in name order (default: "
                       "unrelated stills, each tracked on its own)")  # fmt: skip
    track.add_argument("--max-poses", type=_positive, metavar="N", default=None,
                       help="people to find per frame (default: 1; posenet and "
                       "movenet-multipose: 6). BlazePose finds one")  # fmt: skip
    track.add_argument("--out", metavar="FILE.jsonl",
                       help="write the pose stream here (default: standard output)")  # fmt: skip
    track.add_argument("--overlay", metavar="OUT.mp4",
                       help="also write the frames with the skeleton drawn on them "
                       "(.mp4, or .png/.jpg for a single image)")  # fmt: skip

    models = commands.add_parser("models", help="list or fetch the pose models")
    verbs = models.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("list", help="list the known models and whether each is ready offline")
    fetch = verbs.add_parser("fetch", help="download and convert models (default: the defaults)")
    fetch.add_argument("names", nargs="*", metavar="NAME", help="models to fetch")
    fetch.add_argument("--force", action="store_true",
                       help="convert again even when the cached file is intact")  # fmt: skip
    from posetrack.scene.commands import add_scene_parser  # lazy: see main()

    add_scene_parser(commands)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    # lazy imports below: each subcommand loads only its own stack (`posetrack --help`,
    # `models list` start in a fraction of the time Panda3D + ONNX Runtime take)
    args = build_parser().parse_args(argv)
    return run_guarded("posetrack", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if args.command == "track":
        from posetrack.cli.track import run_track

        return run_track(args)
    if args.command == "scene":
        from posetrack.scene.commands import run_scene

        return run_scene(args)
    from posetrack.models.commands import run_models

    return run_models(args)


if __name__ == "__main__":
    sys.exit(main())
