"""Heatmap decode on the GPU: per-keypoint argmax, PoseNet keypoints, BlazePose refinement,
and PoseNet's multi-person candidate search (part-score local maxima).

`GpuHeatmapDecoder` owns four compute shaders (posetrack/shaders/argmax.comp.glsl, compiled
plain and with HAS_OFFSETS for PoseNet, refine.comp.glsl and local_maxima.comp.glsl) and their
textures. Construct it for one heatmap shape, call `argmax`, `posenet`, `blazepose_refine` or
`local_maxima` per frame, `close()`. `GpuHeatmapOps` (at the end) is the surface model adapters
decode through, as decode_cpu.CpuHeatmapOps on the CPU. The answers equal the CPU path's
(decode_cpu.py): same argmax indices, same PoseNet positions, refined points within 1e-3 px,
the same candidate set.

The reduction: one work group per keypoint channel. Each of its GROUP_SIZE invocations scans a
strided slice of the H*W cells keeping its best (value, flat index), then a tree reduction in
shared memory halves the pairs log2(GROUP_SIZE) times, ties going to the smaller index
(numpy's argmax order, NaN above everything). Why not two passes: the heatmaps here have 17 to
39 channels of at most 64 x 64 = 4096 cells, so one group per channel already gives K groups of
work and each invocation 64 cells; a second pass would add a dispatch and a barrier-bound
round trip for nothing. A heatmap far past 2^16 cells per channel would want one.

Host traffic, counted per call in `bytes_uploaded` and `bytes_read_back`: ONNX Runtime runs on
the CPU here, so the heatmaps (and PoseNet's offsets, BlazePose's landmark cells) go up each
call; the heatmaps travel as a single-channel float texture [H, W*K] (texel (w*K + k, h) =
heatmaps[h, w, k]), which is the array's own row-major bytes: no transpose, no channel
reordering, bit-exact. Only K x 4 floats come back (an rgba32f K x 1 texture: Panda 1.10
cannot read a ShaderBuffer back), never the heatmaps.

The candidate search: one invocation per score, each checking its 3 x 3 window; a candidate
takes a slot of a compact list from an atomic counter. The list is an r32i texture of
1 + capacity texels (count, then flat indices), cleared on the GPU before each dispatch
(Texture.clear_image: Panda issues glClearTexImage on GL 4.4+, nothing crosses the bus) and
read back whole: (1 + 256) x 4 = 1028 bytes by default. The scores of the candidates are looked
up in the host's own copy (the bytes that went up), so the list carries indices only.
"""

import warnings
from collections.abc import Iterable

import numpy as np
from panda3d.core import (
    PTA_float,
    PTA_int,
    PTA_LVecBase2f,
    Texture,
)

from posetrack.errors import PosetrackError
from posetrack.stages.decode_cpu import (
    HEATMAP_KERNEL,
    MIN_CONFIDENCE_TO_REFINE,
    REFINE_CROP_SIZE,
    Candidate,
    landmark_cells,
    sigmoid,
)
from posetrack.stages.decode_cpu import local_maxima as cpu_local_maxima
from posetrack.stages.gpu_context import GpuContext
from posetrack.stages.gpu_dispatch import Dispatch, float_texture

# Invocations per argmax work group (a power of two for the tree reduction). Argmax median on
# llvmpipe (2 busy cores), 64x64x39 / 25x25x17: 32 -> 1.09 / 0.24 ms, 64 -> 1.18 / 0.39,
# 128 -> 1.27 / 0.52, 256 -> 1.57 / 0.42 (32 and 64 are within this machine's noise). 64 is
# a whole number of warps and wavefronts on every GPU; 4096 cells / 64 = 64 cells each.
ARGMAX_GROUP_SIZE = 64
REFINE_GROUP_SIZE = 64  # one invocation per landmark: one group covers BlazePose's 39
LOCAL_MAXIMA_GROUP_SIZE = 64  # one invocation per score; a whole number of warps/wavefronts
# Slots in the GPU candidate list. PoseNet 25x25x17 at TF.js's threshold 0.5 gives about one
# local maximum per visible part per person: measured 22 (basketball2.png), 28 (basketball1.png)
# and 34 (messi5.jpg) candidates, so 256 holds about 15 fully visible people with room for stray
# maxima, more than TF.js's default max_poses = 10 can use. It is not a bound: a 3 x 3 maximum
# can sit on every other cell (13 x 13 x 17 = 2873 strict maxima) and a plateau on every cell,
# and threshold 0 gives 611-660 on those images. A call that finds more falls back to the CPU
# path with a warning (the counter keeps counting past the capacity), so nothing is dropped.
CANDIDATE_CAPACITY = 256
MAX_EXACT_INDEX = 1 << 24  # flat indices travel as float32: exact below 2^24 cells
FLOAT32 = 4  # bytes


class GpuHeatmapDecoder:
    """Decode [H, W, K] heatmaps with compute shaders; K x 4 floats come back per call.

    `context`: the GpuContext (a GL context that supports compute shaders, GLSL 4.30). The
    shape is fixed at construction (it is compiled into the shaders).
    `candidate_capacity`: slots of `local_maxima`'s GPU list (CANDIDATE_CAPACITY: why 256).
    """

    def __init__(
        self,
        context: GpuContext,
        height: int,
        width: int,
        channels: int,
        candidate_capacity: int = CANDIDATE_CAPACITY,
    ) -> None:
        gsg = context.gsg
        if not gsg.supports_compute_shaders:
            raise PosetrackError(f"{gsg.driver_renderer}: no compute shaders (GLSL 4.30 needed)")
        if height * width >= MAX_EXACT_INDEX or min(height, width, channels) < 1:
            raise PosetrackError(f"unsupported heatmap shape {height} x {width} x {channels}")
        if 2 * width * channels > gsg.max_texture_dimension:
            raise PosetrackError(
                f"heatmaps {height} x {width} x {channels} need a texture "
                f"{2 * width * channels} texels wide; this GPU allows {gsg.max_texture_dimension}"
            )
        if not 0 < candidate_capacity < gsg.max_texture_dimension:
            raise PosetrackError(f"candidate capacity {candidate_capacity} out of range")
        self.context = context
        self.shape = (height, width, channels)
        self.bytes_uploaded = 0  # host -> GPU bytes of the last call
        self.bytes_read_back = 0  # GPU -> host bytes of the last call
        self._heatmaps = float_texture("heatmaps", width * channels, height, Texture.F_r32)
        self._offsets = float_texture("offsets", 2 * width * channels, height, Texture.F_r32)
        self._result = float_texture("decode-result", channels, 1, Texture.F_rgba32)
        self.candidate_capacity = candidate_capacity
        self._candidates = Texture("candidates")
        self._candidates.setup_2d_texture(1 + candidate_capacity, 1, Texture.T_int, Texture.F_r32i)
        self._candidates.set_clear_color((0, 0, 0, 0))  # what clear_image() resets it to
        # glClearTexImage (GL 4.4) clears on the GPU; older GL gets a zero image uploaded
        gl_version = (gsg.driver_version_major, gsg.driver_version_minor)
        self._clear_bytes = 0 if gl_version >= (4, 4) else (1 + candidate_capacity) * FLOAT32
        self._threshold = PTA_float.empty_array(1)
        self._stride = PTA_float.empty_array(1)
        self._centres = PTA_LVecBase2f.empty_array(channels)
        self._centres_view = np.asarray(memoryview(self._centres))  # K x 2 float32, in place
        self._landmark_count = PTA_int.empty_array(1)
        self._window_offset = PTA_int.empty_array(1)

        shape = {"HEIGHT": height, "WIDTH": width, "CHANNELS": channels}
        argmax = {**shape, "GROUP_SIZE": ARGMAX_GROUP_SIZE}
        self._argmax = Dispatch(
            context,
            "argmax",
            context.load_compute("argmax.comp.glsl", argmax),
            {"heatmaps": self._heatmaps},
            self._result,
        )
        self._posenet = Dispatch(
            context,
            "posenet",
            context.load_compute("argmax.comp.glsl", {**argmax, "HAS_OFFSETS": None}),
            {"heatmaps": self._heatmaps, "offsets": self._offsets, "output_stride": self._stride},
            self._result,
        )
        self._refine = Dispatch(
            context,
            "refine",
            context.load_compute("refine.comp.glsl", {**shape, "GROUP_SIZE": REFINE_GROUP_SIZE}),
            {
                "heatmaps": self._heatmaps,
                "centres": self._centres,
                "landmark_count": self._landmark_count,
                "window_offset": self._window_offset,
            },
            self._result,
        )
        self._local_maxima = Dispatch(
            context,
            "local-maxima",
            context.load_compute(
                "local_maxima.comp.glsl",
                {**shape, "GROUP_SIZE": LOCAL_MAXIMA_GROUP_SIZE, "CAPACITY": candidate_capacity},
            ),
            {"scores": self._heatmaps, "threshold": self._threshold},
            self._candidates,
            result_read=True,
        )

    # ------------------------------------------------------------------ public calls

    def argmax(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per channel: (flat index into the H*W cells [K] int64, max value [K] float32)."""
        self._upload(self._heatmaps, heatmaps, self.shape)
        self._argmax.run(self.shape[2])
        result = self._read_back()
        return result[:, 3].astype(np.int64), result[:, 2].copy()

    def posenet(self, heatmaps: np.ndarray, offsets: np.ndarray, stride: int) -> np.ndarray:
        """PoseNet single-pose keypoints, K x 3 (x, y, score) in model-input pixels.

        x, y = argmax cell * stride + offset there (float32, as posenet_keypoints);
        score = sigmoid(max logit), in float64 on the K values read back.
        """
        height, width, channels = self.shape
        self._upload(self._heatmaps, heatmaps, self.shape)
        self._upload(self._offsets, offsets, (height, width, 2 * channels), accumulate=True)
        self._stride[0] = float(stride)
        self.bytes_uploaded += FLOAT32  # the stride uniform
        self._posenet.run(channels)
        result = self._read_back()
        return np.stack([result[:, 0], result[:, 1], sigmoid(result[:, 2])], axis=1).astype(
            np.float64
        )

    def blazepose_refine(
        self,
        landmarks_crop_px: np.ndarray,
        heatmap_logits: np.ndarray,
        crop_size: int = REFINE_CROP_SIZE,
        kernel_size: int = HEATMAP_KERNEL,
        min_confidence: float = MIN_CONFIDENCE_TO_REFINE,
    ) -> np.ndarray:
        """MediaPipe's RefineLandmarksFromHeatmap on N x 2 crop-pixel landmarks -> N x 2.

        Same contract as decode_cpu.refine_from_heatmap (defaults: its HEATMAP_KERNEL
        and MIN_CONFIDENCE_TO_REFINE). The landmarks' cells are found on the CPU with the
        reference's own truncation (they go up as K float pairs), the window sums run on the
        GPU, and the min-confidence gate is applied to the read-back max logit in float64, so
        the gate decides exactly as the reference does.
        """
        height, width, channels = self.shape
        points = np.asarray(landmarks_crop_px, dtype=np.float64)
        count = min(points.shape[0], channels)
        col, row, inside = landmark_cells(points[:count] / crop_size, height, width)

        self._upload(self._heatmaps, heatmap_logits, self.shape)
        self._centres_view[:count, 0] = col
        self._centres_view[:count, 1] = row
        self._landmark_count[0] = count
        self._window_offset[0] = (kernel_size - 1) // 2
        # the whole centres array (Panda sends all K entries) and the two int uniforms
        self.bytes_uploaded += (channels * 2 + 2) * FLOAT32
        self._refine.run(-(-count // REFINE_GROUP_SIZE))
        result = self._read_back()[:count].astype(np.float64)

        update = inside & (sigmoid(result[:, 2]) >= min_confidence) & (result[:, 3] > 0)
        refined = points.copy()
        refined[:count, 0] = np.where(update, result[:, 0] / width * crop_size, points[:count, 0])
        refined[:count, 1] = np.where(update, result[:, 1] / height * crop_size, points[:count, 1])
        return refined

    def local_maxima(self, scores: np.ndarray, threshold: float) -> list[Candidate]:
        """PoseNet's multi-person root candidates, found on the GPU, in `candidate_order`.

        The same set as posenet_decode.local_maxima(scores as float32, threshold): cells with
        score >= threshold and no strictly higher score in their 3 x 3 window (clipped at the
        edges) of the same part; plateaus give one candidate per cell. `scores` [H, W, K] or
        [1, H, W, K] are the part probabilities (sigmoid applied); they go up as float32, the
        models' own type. More candidates than `candidate_capacity`: a RuntimeWarning, and the
        answer comes from the CPU path instead (nothing is dropped).
        """
        height, width, channels = self.shape
        self._upload(self._heatmaps, scores, self.shape)
        self._threshold[0] = _float32_threshold(threshold)
        self.bytes_uploaded += FLOAT32 + self._clear_bytes  # the threshold uniform, the clear
        self._candidates.clear_image()
        elements = height * width * channels
        groups = -(-elements // LOCAL_MAXIMA_GROUP_SIZE)
        self._local_maxima.run(groups)
        if not self.context.engine.extract_texture_data(self._candidates, self.context.gsg):
            raise PosetrackError("could not read the candidate list back from the GPU")
        raw = np.frombuffer(bytes(self._candidates.get_ram_image()), dtype=np.int32)
        self._candidates.clear_ram_image()  # or Panda would upload it again on the next bind
        self.bytes_read_back = raw.nbytes
        found = int(raw[0])
        flat = np.asarray(scores, dtype=np.float32).reshape(-1)  # what went up, as it went up
        if found > self.candidate_capacity:
            warnings.warn(
                f"{found} local maxima above {threshold}: more than the GPU list holds "
                f"({self.candidate_capacity}); finishing this call on the CPU",
                RuntimeWarning,
                stacklevel=2,
            )
            return sort_candidates(cpu_local_maxima(flat.reshape(self.shape), threshold))
        index = raw[1 : 1 + found].astype(np.int64)
        value = flat[index]
        cell, part = np.divmod(index, channels)
        row, col = np.divmod(cell, width)
        order = np.lexsort((col, row, part, -value))  # the last key sorts first
        return [Candidate(float(value[i]), int(row[i]), int(col[i]), int(part[i])) for i in order]

    def close(self) -> None:
        """Release the textures' GPU memory; the decoder cannot be used afterwards."""
        for texture in (self._heatmaps, self._offsets, self._result, self._candidates):
            texture.release_all()
        self._argmax = self._posenet = self._refine = None  # type: ignore[assignment]
        self._local_maxima = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ transfers

    def _upload(
        self,
        texture: Texture,
        array: np.ndarray,
        shape: tuple[int, int, int],
        accumulate: bool = False,
    ) -> None:
        """Put [H, W, C] (or [1, H, W, C]) float32 into `texture`'s RAM image, counted.

        A single-channel texture keeps the bytes as they are: no BGR(A) reordering applies.
        The first upload of a call resets both counters.
        """
        if self._argmax is None:
            raise PosetrackError("GpuHeatmapDecoder used after close()")
        data = np.asarray(array, dtype=np.float32)
        if data.shape[-3:] != shape or data.size != np.prod(shape):
            raise PosetrackError(f"expected an array [H, W, C] = {list(shape)}, got {data.shape}")
        data = data.reshape(shape)
        # copying into Panda's own buffer: 0.02 ms for 64x64x39, set_ram_image takes 0.3 ms
        ram = np.frombuffer(memoryview(texture.modify_ram_image()), dtype=np.float32)
        np.copyto(ram.reshape(shape), data)
        if not accumulate:
            self.bytes_uploaded = 0
            self.bytes_read_back = 0
        self.bytes_uploaded += data.nbytes

    def _read_back(self) -> np.ndarray:
        """The K x 4 result texels as (x, y, value, index) rows."""
        if not self.context.engine.extract_texture_data(self._result, self.context.gsg):
            raise PosetrackError("could not read the decode result back from the GPU")
        raw = bytes(self._result.get_ram_image())
        # Panda keeps RGBA RAM images as BGRA; dropping the RAM image stops Panda uploading
        # this copy back to the GPU when the texture is next bound (measured: it does)
        self._result.clear_ram_image()
        self.bytes_read_back = len(raw)
        return np.frombuffer(raw, dtype=np.float32).reshape(-1, 4)[:, [2, 1, 0, 3]]


def candidate_order(candidate: Candidate) -> tuple[float, int, int, int]:
    """Sort key of candidate lists: score descending, then part, row (y), column (x) ascending.

    TF.js pops its max-heap by score alone; this total order makes equal scores deterministic
    and is the order posenet_decode.decode_multiple's heap pops them in.
    """
    return (-candidate.score, candidate.part, candidate.y, candidate.x)


def sort_candidates(candidates: Iterable[Candidate]) -> list[Candidate]:
    """`candidates` in `candidate_order` (best first)."""
    return sorted(candidates, key=candidate_order)


def _float32_threshold(threshold: float) -> np.float32:
    """The float32 t such that, for every float32 score s, s >= t exactly when numpy's
    `scores >= threshold` (float32 scores) says so: numpy may compare in float32 (a Python
    float, NEP 50) or in float64 (a numpy float64), and the rounded threshold can sit below the
    given one; then the next float32 up is the smallest score that passes."""
    rounded = np.float32(threshold)
    if (np.array([rounded], dtype=np.float32) >= threshold)[0]:
        return rounded
    return np.nextafter(rounded, np.float32(np.inf))


class GpuHeatmapOps:
    """The compute-shader decode (max-pool argmax reduction, refinement, local maxima)."""

    def __init__(self, context) -> None:
        self.context = context
        self._decoders: dict[tuple[int, ...], object] = {}
        self.total_uploaded = 0
        self.total_read_back = 0

    def refine(self, landmarks_crop_px: np.ndarray, logits: np.ndarray, **kw) -> np.ndarray:
        decoder = self._decoder(logits.shape)
        return self._counted(decoder, decoder.blazepose_refine(landmarks_crop_px, logits, **kw))

    def posenet(self, logits: np.ndarray, offsets: np.ndarray, stride: int) -> np.ndarray:
        decoder = self._decoder(logits.shape)
        return self._counted(decoder, decoder.posenet(logits, offsets, stride))

    def local_maxima(self, scores: np.ndarray, threshold: float) -> list[Candidate]:
        decoder = self._decoder(scores.shape)
        return self._counted(decoder, decoder.local_maxima(scores, threshold))

    def _decoder(self, shape: tuple[int, ...]):
        height, width, channels = shape[-3:]
        key = (height, width, channels)
        if key not in self._decoders:
            self._decoders[key] = GpuHeatmapDecoder(self.context, height, width, channels)
        return self._decoders[key]

    def _counted(self, decoder, result):
        self.total_uploaded += decoder.bytes_uploaded
        self.total_read_back += decoder.bytes_read_back
        return result

    def close(self) -> None:
        for decoder in self._decoders.values():
            decoder.close()
        self._decoders.clear()
