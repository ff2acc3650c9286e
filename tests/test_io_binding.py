"""ONNX Runtime IO binding (posetrack/models/binding.py) on the CPU provider, which supports it
too: the seam the CUDA path uses, exercised on every machine. Real models on their real inputs
(the project's own detector and landmark crops of messi5.jpg and Sports2D frames); the tests
that need an NVIDIA GPU say NOT RUN and why where there is none."""

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from posetrack.errors import ModelError
from posetrack.models import zoo
from posetrack.models.binding import DeviceTensor
from posetrack.models.blazepose_detector import DetectorDecoder, preprocess_detector
from posetrack.models.blazepose_landmarks import preprocess_landmarks
from posetrack.models.runtime import OrtModel, cuda_problem


@pytest.fixture(scope="module")
def real_inputs(messi_image: Path, sports2d_clip: Path) -> dict[str, list[np.ndarray]]:
    """Each model's own input for messi5.jpg and four Sports2D frames, made as the tracker
    makes them: the detector's letterboxed frame; the landmark crop of the detected person."""
    pictures = [cv2.imread(str(messi_image))]
    capture = cv2.VideoCapture(str(sports2d_clip))
    for index in range(181):  # the person is in full view from about frame 80 on
        ok, frame = capture.read()
        assert ok
        if index in (90, 120, 150, 180):
            pictures.append(frame)
    capture.release()
    detector = OrtModel(zoo.onnx_path("pose-detector"), "cpu")
    decoder = DetectorDecoder()
    inputs: dict[str, list[np.ndarray]] = {"pose-detector": [], "blazepose-full": []}
    try:
        for picture in pictures:
            tensor, crop_to_source = preprocess_detector(picture)
            inputs["pose-detector"].append(tensor)
            rois = decoder.decode(detector.run({detector.input_names[0]: tensor}), crop_to_source)
            assert rois, "the detector finds the person in every test picture"
            inputs["blazepose-full"].append(preprocess_landmarks(picture, rois[0])[0])
    finally:
        detector.close()
    return inputs


@pytest.fixture
def bound_full() -> Iterator[OrtModel]:
    model = OrtModel(zoo.onnx_path("blazepose-full"), "cpu", io_binding=True)
    yield model
    model.close()


@pytest.mark.parametrize("name", ["blazepose-full", "pose-detector"])
def test_bound_runs_give_the_plain_runs_outputs_bit_for_bit(
    name: str, real_inputs: dict[str, list[np.ndarray]]
) -> None:
    plain = OrtModel(zoo.onnx_path(name), "cpu")
    bound = OrtModel(zoo.onnx_path(name), "cpu", io_binding=True)
    try:
        # the CPU provider runs plainly by default (binding gains nothing measurable there)
        assert bound.binding is not None and plain.binding is None
        for tensor in real_inputs[name]:
            feeds = {plain.input_names[0]: tensor}
            want, got = plain.run(feeds), bound.run(feeds)
            assert want.keys() == got.keys() == set(plain.output_names)
            for key in want:
                np.testing.assert_array_equal(got[key], want[key], err_msg=key)
        assert bound.total_uploaded == bound.total_read_back == 0  # no bus on the CPU
    finally:
        plain.close()
        bound.close()


def test_buffers_are_allocated_once_and_reused_every_frame(
    bound_full: OrtModel, real_inputs: dict[str, list[np.ndarray]]
) -> None:
    binding = bound_full.binding
    name = bound_full.input_names[0]
    values = {**binding.inputs, **binding.outputs}
    assert set(values) == {name, *bound_full.output_names}  # every shape is static: all bound
    pointers = {key: value.data_ptr() for key, value in values.items()}
    results = [bound_full.run({name: t}) for t in real_inputs["blazepose-full"]]
    assert {**binding.inputs, **binding.outputs} == values  # the very same OrtValues...
    assert {key: v.data_ptr() for key, v in values.items()} == pointers  # ...and buffers
    assert binding.input_pointer(name) == pointers[name]
    # the last frame's input is what the bound buffer holds; each frame's outputs are its own
    np.testing.assert_array_equal(binding.inputs[name].numpy(), real_inputs["blazepose-full"][-1])
    assert not np.array_equal(results[0]["Identity"], results[-1]["Identity"])
    assert not np.shares_memory(results[-1]["Identity"], binding.outputs["Identity"].numpy())


def test_a_producer_writing_into_the_bound_input_needs_no_copy(
    bound_full: OrtModel, real_inputs: dict[str, list[np.ndarray]]
) -> None:
    name = bound_full.input_names[0]
    view = bound_full.binding.host_input(name)
    assert view is not None and view.ctypes.data == bound_full.binding.input_pointer(name)
    plain = OrtModel(zoo.onnx_path("blazepose-full"), "cpu")
    try:
        for tensor in real_inputs["blazepose-full"][:2]:
            view[...] = tensor  # as a preprocess targeting the buffer would
            got = bound_full.run({name: view})
            np.testing.assert_array_equal(got["Identity"], plain.run({name: tensor})["Identity"])
    finally:
        plain.close()


def test_a_wrong_input_is_a_clear_error_naming_the_shape_and_dtype(bound_full: OrtModel) -> None:
    name = bound_full.input_names[0]
    with pytest.raises(ModelError, match=r"must be float32 \[1, 256, 256, 3\].*128"):
        bound_full.run({name: np.zeros((1, 128, 256, 3), np.float32)})
    with pytest.raises(ModelError, match="got float64"):
        bound_full.run({name: np.zeros((1, 256, 256, 3), np.float64)})
    with pytest.raises(ModelError, match="no input 'image'"):
        bound_full.run({"image": np.zeros((1, 256, 256, 3), np.float32)})
    with pytest.raises(ModelError, match="must be a numpy array, not list"):
        bound_full.run({name: [[0.0]]})
    with pytest.raises(ModelError, match="on the GPU but the model runs on the CPU"):
        bound_full.run({name: DeviceTensor(1, (1, 256, 256, 3))})
    # and the binding still works after each refusal
    out = bound_full.run({name: np.zeros((1, 256, 256, 3), np.float32)})
    assert out["Identity"].shape == (1, 195)


def _need_cuda() -> None:
    problem = cuda_problem()
    if problem is not None:
        pytest.skip(f"NOT RUN: needs an NVIDIA GPU and onnxruntime-gpu ({problem})")


def test_on_cuda_a_frame_moves_only_its_input_up_and_its_outputs_down(
    real_inputs: dict[str, list[np.ndarray]],
) -> None:
    _need_cuda()
    model = OrtModel(zoo.onnx_path("blazepose-full"), "cuda")
    reference = OrtModel(zoo.onnx_path("blazepose-full"), "cpu")
    try:
        assert model.binding is not None  # on by default on CUDA
        up, down = model.total_uploaded, model.total_read_back  # the warm-up run's
        tensor = real_inputs["blazepose-full"][0]
        got = model.run({model.input_names[0]: tensor})
        assert model.total_uploaded - up == tensor.nbytes == 256 * 256 * 3 * 4
        assert model.total_read_back - down == sum(v.nbytes for v in got.values())
        want = reference.run({model.input_names[0]: tensor})
        # CUDA and CPU kernels differ in rounding: landmarks within 0.05 crop px
        assert np.abs(got["Identity"] - want["Identity"]).max() < 0.05
    finally:
        model.close()
        reference.close()


def test_a_model_input_already_on_the_gpu_is_bound_without_a_host_copy(
    real_inputs: dict[str, list[np.ndarray]],
) -> None:
    _need_cuda()
    cupy = pytest.importorskip("cupy", reason="NOT RUN: needs CuPy for a device-side input")
    model = OrtModel(
        zoo.onnx_path("blazepose-full"), "cuda", keep_on_device=frozenset({"Identity_3"})
    )
    reference = OrtModel(zoo.onnx_path("blazepose-full"), "cpu")
    try:
        tensor = real_inputs["blazepose-full"][0]
        on_gpu = cupy.asarray(tensor)
        up = model.total_uploaded
        got = model.run({model.input_names[0]: DeviceTensor(on_gpu.data.ptr, tensor.shape)})
        assert model.total_uploaded == up  # nothing crossed the bus on the way in
        heatmap = got["Identity_3"]  # left on the device for a GPU decode
        assert heatmap.device_name().lower() == "cuda"
        want = reference.run({model.input_names[0]: tensor})
        assert np.abs(got["Identity"] - want["Identity"]).max() < 0.05
        assert np.abs(heatmap.numpy() - want["Identity_3"]).max() < 0.05
    finally:
        model.close()
        reference.close()
