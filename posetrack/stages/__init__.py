"""The pipeline's stages: what each reads and writes, and where its CPU and GPU halves live.

systems/ holds the esper processors (one per stage, their docstrings say the same reads and
writes in full); this folder holds what they run, a stage's CPU and GPU implementations side
by side (crop_cpu.py / crop_gpu.py, decode_cpu.py / decode_gpu.py, the compute shaders in
posetrack/shaders/), and how the pose stages are driven: pipeline.py runs detect -> decode
(-> filter) for one frame, off esper; live.py runs it on a worker thread on the newest frame
(a game); handover.py applies each frame's outcome to the tracker entity on the host's
thread. The table is the map a newcomer reads first; README and docs point here, and
tests/test_stage_table.py keeps every path in it real.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    reads: str
    writes: str
    system: str  # the esper processor, a module of posetrack/
    cpu: str  # the CPU implementation(s), modules of posetrack/ ("" when none)
    gpu: str = ""  # the GPU implementation: module + shader ("" when the stage has none)


STAGES: tuple[Stage, ...] = (
    Stage("capture", "a FrameSource (video, images, webcam:N)", "CameraFrame",
          "systems/capture.py", "stages/sources.py"),
    Stage("detect", "CameraFrame, TrackingState (last landmarks)", "RegionOfInterest",
          "systems/detect.py", "models/blazepose_detector.py, stages/geometry.py"),
    Stage("preprocess", "CameraFrame, RegionOfInterest", "ModelInput",
          "systems/preprocess.py", "stages/crop_cpu.py",
          "stages/crop_gpu.py + shaders/crop.comp.glsl"),
    Stage("inference", "ModelInput", "ModelOutputs", "systems/inference.py",
          "models/runtime.py (ONNX Runtime: CUDA or CPU provider)"),
    Stage("decode", "CameraFrame, ModelInput, ModelOutputs", "PoseResult, TrackingState",
          "systems/decode.py", "stages/decode_cpu.py (+ models/ adapters)",
          "stages/decode_gpu.py + shaders/argmax, refine, local_maxima.comp.glsl"),
    Stage("filter", "PoseResult, FilterConfig", "FilteredPose", "systems/filter.py",
          "stages/one_euro.py"),
    Stage("retarget", "FilteredPose, CharacterBinding", "JointTargets", "systems/retarget.py",
          "retarget/solve.py"),
    Stage("animate", "CharacterBinding, JointTargets", "the actor's joints (controlJoint)",
          "systems/animate.py", "systems/animate.py"),
)  # fmt: skip
