"""ONNX Runtime IO binding (posetrack/models/binding.py) on the CPU provider, which supports it
too: the seam the CUDA path uses, exercised on every machine. Real models, real frames."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from posetrack.errors import ModelError
from posetrack.models import zoo
from posetrack.models.binding import DeviceTensor
from posetrack.models.runtime import OrtModel, cuda_problem


def frames(clip: Path, size: int, count: int) -> list[np.ndarray]:
    """`count` real frames of the clip, squashed to the model's input, RGB in [0, 1]."""
    capture = cv2.VideoCapture(str(clip))
    out = []
    for index in range(count * 20):
        ok, frame = capture.read()
        if not ok:
            break
        if index % 20 == 0:
            rgb = cv2.cvtColor(cv2.resize(frame, (size, size)), cv2.COLOR_BGR2RGB)
            out.append((rgb.astype(np.float32) / 255.0)[None])
    capture.release()
    return out


@pytest.mark.parametrize(("name", "size"), [("blazepose-full", 256), ("pose-detector", 224)])
def test_bound_runs_give_the_plain_runs_outputs_bit_for_bit(
    name: str, size: int, sports2d_clip: Path
) -> None:
    plain = OrtModel(zoo.onnx_path(name), "cpu", io_binding=False)
    bound = OrtModel(zoo.onnx_path(name), "cpu", io_binding=True)
    try:
        assert bound.binding is not None and plain.binding is None
        for tensor in frames(sports2d_clip, size, 5):
            feeds = {plain.input_names[0]: tensor}
            want, got = plain.run(feeds), bound.run(feeds)
            assert want.keys() == got.keys()
            for key in want:
                np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    finally:
        plain.close()
        bound.close()


def test_outputs_are_allocated_once_and_reused_every_frame(sports2d_clip: Path) -> None:
    model = OrtModel(zoo.onnx_path("blazepose-full"), "cpu", io_binding=True)
    try:
        binding = model.binding
        pointers = {name: value.data_ptr() for name, value in binding.outputs.items() if value}
        assert set(pointers) == set(model.output_names)  # every output has a static shape
        results = [model.run({model.input_names[0]: t}) for t in frames(sports2d_clip, 256, 3)]
        after = {name: value.data_ptr() for name, value in binding.outputs.items()}
        assert after == pointers  # the same device buffers, frame after frame
        # each frame's arrays are its own: the next frame's run did not overwrite them
        assert not np.array_equal(results[0]["Identity"], results[2]["Identity"])
    finally:
        model.close()


def test_a_wrong_input_is_a_clear_error_naming_the_shape_and_dtype() -> None:
    model = OrtModel(zoo.onnx_path("blazepose-full"), "cpu", io_binding=True)
    name = model.input_names[0]
    try:
        with pytest.raises(ModelError, match=r"must be float32 \[1, 256, 256, 3\].*128"):
            model.run({name: np.zeros((1, 128, 256, 3), np.float32)})
        with pytest.raises(ModelError, match="got float64"):
            model.run({name: np.zeros((1, 256, 256, 3), np.float64)})
        with pytest.raises(ModelError, match="no input 'image'"):
            model.run({"image": np.zeros((1, 256, 256, 3), np.float32)})
    finally:
        model.close()


def test_a_model_input_already_on_the_gpu_is_bound_without_a_host_copy(
    sports2d_clip: Path,
) -> None:
    problem = cuda_problem()
    if problem is not None:
        pytest.skip(f"NOT RUN: needs CUDA ({problem})")
    cupy = pytest.importorskip("cupy", reason="NOT RUN: needs CuPy for a device-side input")
    model = OrtModel(zoo.onnx_path("blazepose-full"), "cuda")
    reference = OrtModel(zoo.onnx_path("blazepose-full"), "cpu")
    try:
        tensor = frames(sports2d_clip, 256, 1)[0]
        on_gpu = cupy.asarray(tensor)
        feeds = {model.input_names[0]: DeviceTensor(on_gpu.data.ptr, tensor.shape)}
        got = model.run(feeds)
        want = reference.run({model.input_names[0]: tensor})
        # CUDA and CPU kernels differ in rounding: landmarks within 0.05 crop px
        assert np.abs(got["Identity"] - want["Identity"]).max() < 0.05
    finally:
        model.close()
        reference.close()
