"""Import recorded motion into Blender (the bpy package) and compare it with the pose stream.

Blender is not in this project's lock (a 1 GB package): run this in a venv of its own.

    .venv/bin/posetrack track sample:sports2d-demo.mp4 --character mannequin \\
        --out /tmp/take.jsonl --bvh /tmp/take.bvh --gltf /tmp/take.glb
    python3.11 -m venv /tmp/bpy && /tmp/bpy/bin/pip install bpy==4.5.4
    /tmp/bpy/bin/python docs/blender_check.py /tmp/take.jsonl /tmp/take.bvh /tmp/take.glb

A fourth argument `mixamo` reads a Mixamo-named rig (`--character rig.glb` with the mixamo
preset) instead of the mannequin.

Both files go through Blender's own importers with their default settings (BVH: forward -Z,
up Y, scale 1; glTF: +Y up), at the scene frame rate set to the stream's. Blender's axes
(Z up, the character facing -Y) are Panda3D's, so each frame's bone heads (world space) are
hip-centred and turned into the stream's axes as `posetrack track` does (mirrored: x negated,
left/right swapped), then compared with the stream's `"character"` joints. Prints the largest
and the median error per file; exits 1 when one is over 1 mm. Stand-alone: it imports nothing
from posetrack (bpy brings its own numpy).
"""

import json
import statistics
import sys

import bpy  # type: ignore[import-not-found]
from mathutils import Vector  # type: ignore[import-not-found]

MAX_ERROR_M = 0.001
# stream keypoint -> the joint that stands for it (posetrack.retarget.limbs), by rig
RIGS = {
    "mannequin": {
        f"{side}_{kp}": f"{bone}_{side[0]}"
        for side in ("left", "right")
        for kp, bone in (("shoulder", "upper_arm"), ("elbow", "lower_arm"), ("wrist", "hand"),
                         ("hip", "upper_leg"), ("knee", "lower_leg"), ("ankle", "foot"))
    },
    "mixamo": {
        f"{side}_{kp}": f"mixamorig:{side.title()}{bone}"
        for side in ("left", "right")
        for kp, bone in (("shoulder", "Arm"), ("elbow", "ForeArm"), ("wrist", "Hand"),
                         ("hip", "UpLeg"), ("knee", "Leg"), ("ankle", "Foot"))
    },
}  # fmt: skip


def mirrored(name: str) -> str:
    return name.replace("left", "@").replace("right", "left").replace("@", "right")


def stream_frames(path: str) -> tuple[float, list[dict]]:
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    return lines[0]["fps"], [x for x in lines if x["type"] == "frame"]


def errors_for(armature, first_frame: int, frames: list[dict], joints: dict) -> list[float]:
    scene = bpy.context.scene
    out = []
    for frame in frames:
        if not frame["poses"] or "character" not in frame["poses"][0]:
            continue
        scene.frame_set(first_frame + frame["frame"])
        heads = {k: armature.matrix_world @ armature.pose.bones[j].head for k, j in joints.items()}
        hip = (heads["left_hip"] + heads["right_hip"]) / 2
        expected = frame["poses"][0]["character"]
        worst = 0.0
        for keypoint, head in heads.items():
            p = head - hip  # Blender = Panda3D axes -> the stream's: (x, -z, y), mirrored
            got = Vector((-p.x, -p.z, p.y))
            worst = max(worst, (got - Vector(expected[mirrored(keypoint)])).length)
        out.append(worst)
    return out


def first_key(armature) -> int:
    action = armature.animation_data.action
    return round(min(fc.keyframe_points[0].co.x for fc in action.fcurves))


def main(jsonl: str, bvh: str, glb: str, rig: str = "mannequin") -> int:
    fps, frames = stream_frames(jsonl)
    bad = 0
    for kind, path in (("bvh", bvh), ("glb", glb)):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.context.scene.render.fps = round(fps)
        bpy.context.scene.render.fps_base = round(fps) / fps
        if kind == "bvh":
            bpy.ops.import_anim.bvh(filepath=path)
        else:
            bpy.ops.import_scene.gltf(filepath=path)
        armature = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
        errors = errors_for(armature, first_key(armature), frames, RIGS[rig])
        worst = max(errors)
        print(f"Blender {bpy.app.version_string} {kind}: max {worst * 1000:.3f} mm, median "
              f"{statistics.median(errors) * 1000:.3f} mm over {len(errors)} frames")  # fmt: skip
        bad += worst > MAX_ERROR_M
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
