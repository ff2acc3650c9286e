"""Shape and indexing operators: numpy folds and ONNX emitters (TF's NHWC memory order).

Shapes are static after conversion, so every pure reshape (Reshape, ExpandDims, Squeeze) is
an ONNX Reshape to the known result shape, and Shape / Size / Rank fold to constants.
"""

import numpy as np
from onnx import TensorProto

from posetrack.errors import UnsupportedModelError
from posetrack.models.tfjs_onnx.builder import NCHW, NHWC, TO_NCHW, OnnxBuilder, Value
from posetrack.models.tfjs_onnx.reader import Node

Meta = list[tuple[tuple[int, ...], np.dtype]]
_FAR = 1 << 62  # an end index past any dimension (ONNX clamps it), for open-ended slices


def _bits(node: Node, mask: str) -> int:
    return int(node.attrs.get(mask, 0) or 0)


def _strided_items(node: Node, begin: np.ndarray, end: np.ndarray, strides: np.ndarray) -> list:
    """TF StridedSlice as a numpy index: slices, ints (shrink), None (new axis), Ellipsis."""
    items: list = []
    for i, (b, e, s) in enumerate(zip(begin.tolist(), end.tolist(), strides.tolist(), strict=True)):
        bit = 1 << i
        if _bits(node, "ellipsis_mask") & bit:
            items.append(Ellipsis)
        elif _bits(node, "new_axis_mask") & bit:
            items.append(None)
        elif _bits(node, "shrink_axis_mask") & bit:
            items.append(int(b))
        else:
            start = None if _bits(node, "begin_mask") & bit else int(b)
            stop = None if _bits(node, "end_mask") & bit else int(e)
            items.append(slice(start, stop, int(s)))
    return items


def fold_strided_slice(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    x, begin, end, strides = arrays
    return [np.asarray(x[tuple(_strided_items(node, begin, end, strides))])]


def fold_slice(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    x, begin, size = arrays
    pairs = zip(begin.tolist(), size.tolist(), strict=True)
    return [x[tuple(slice(b, None if s == -1 else b + s) for b, s in pairs)]]


def _onnx_slices(items: list, shape: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """(axis, start, end, step) per input axis that is not taken whole."""
    if Ellipsis in items:
        at = items.index(Ellipsis)
        consumed = sum(1 for it in items if it is not None and it is not Ellipsis)
        items = items[:at] + [slice(None)] * (len(shape) - consumed) + items[at + 1 :]
    items = [it for it in items if it is not None]
    items += [slice(None)] * (len(shape) - len(items))
    out = []
    for axis, (it, dim) in enumerate(zip(items, shape, strict=True)):
        if isinstance(it, int):
            start = it % dim
            out.append((axis, start, start + 1, 1))
            continue
        start, stop, step = it.indices(dim)
        if step < 0 and stop < 0:
            stop = -_FAR  # "before index 0", which ONNX spells as a far negative end
        if (start, stop, step) != (0, dim, 1):
            out.append((axis, start, stop, step))
    return out


def _slice_and_reshape(b: OnnxBuilder, node: Node, x: Value, items: list, meta: Meta) -> Value:
    y = b.get(x)
    parts = _onnx_slices(items, x.shape)
    if parts:
        axes, starts, ends, steps = (list(col) for col in zip(*parts, strict=True))
        y = b.op("Slice", [y, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)],
                 node.name)  # fmt: skip
    return _reshaped(b, node, y, meta)


def _reshaped(b: OnnxBuilder, node: Node, name: str, meta: Meta, index: int = 0) -> Value:
    shape, dtype = meta[index]
    return b.computed(shape, dtype, b.op("Reshape", [name, b.ints(shape)], node.name), NHWC)


def emit_strided_slice(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    if any(v.const is None for v in ins[1:]):
        raise UnsupportedModelError(f"{node.name}: StridedSlice bounds must be constants")
    items = _strided_items(node, ins[1].const, ins[2].const, ins[3].const)
    return [_slice_and_reshape(b, node, ins[0], items, meta)]


def emit_slice(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    if any(v.const is None for v in ins[1:]):
        raise UnsupportedModelError(f"{node.name}: Slice bounds must be constants")
    begin, size = ins[1].const.tolist(), ins[2].const.tolist()
    items = [slice(p, None if s == -1 else p + s) for p, s in zip(begin, size, strict=True)]
    return [_slice_and_reshape(b, node, ins[0], items, meta)]


def fold_reshape(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    x = arrays[0]
    if node.op == "Reshape":
        return [x.reshape(tuple(int(d) for d in arrays[1]))]
    if node.op == "ExpandDims":
        return [np.expand_dims(x, int(arrays[1]))]
    dims = node.attrs.get("squeeze_dims") or [i for i, d in enumerate(x.shape) if d == 1]
    return [x.reshape([d for i, d in enumerate(x.shape) if i not in [a % x.ndim for a in dims]])]


def emit_reshape(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    return [_reshaped(b, node, b.get(ins[0]), meta)]


def fold_pack(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [np.stack(arrays, axis=int(node.attrs.get("axis", 0)))]


def emit_pack(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    shape, dtype = meta[0]
    axis = int(node.attrs.get("axis", 0)) % len(shape)
    one = b.ints(shape[:axis] + (1,) + shape[axis + 1 :])
    parts = [b.op("Reshape", [b.get(v), one], node.name) for v in ins]
    return [b.computed(shape, dtype, b.op("Concat", parts, node.name, axis=axis), NHWC)]


def fold_unpack(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    x, axis = arrays[0], int(node.attrs.get("axis", 0))
    return [np.take(x, i, axis=axis) for i in range(x.shape[axis])]


def emit_unpack(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    axis = int(node.attrs.get("axis", 0)) % len(ins[0].shape)
    parts = b.node("Split", [b.get(ins[0])], node.name, n_out=len(meta), axis=axis,
                   num_outputs=len(meta))  # fmt: skip
    return [_reshaped(b, node, p, meta, i) for i, p in enumerate(parts)]


def fold_concat(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [np.concatenate(arrays[:-1], axis=int(arrays[-1]))]


def emit_concat(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    shape, dtype = meta[0]
    axis = int(ins[-1].const) % len(shape)
    parts = ins[:-1]
    dynamic = [v for v in parts if not v.is_const]
    layout = NHWC
    if len(shape) == 4 and all(NCHW in v.names for v in dynamic):
        layout, axis = NCHW, TO_NCHW.index(axis)
    y = b.op("Concat", [b.get(v, layout) for v in parts], node.name, axis=axis)
    return [b.computed(shape, dtype, y, layout)]


def fold_gather(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    if int(node.attrs.get("batch_dims", 0)):
        raise UnsupportedModelError(f"{node.name}: GatherV2 with batch_dims is not supported")
    return [np.take(arrays[0], arrays[1], axis=int(arrays[2]))]


def emit_gather(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    fold_gather(node, [np.zeros(1), np.zeros(1, np.int32), np.int32(0)])  # batch_dims check
    axis = int(ins[2].const) % len(ins[0].shape)
    y = b.op("Gather", [b.get(ins[0]), b.get(ins[1])], node.name, axis=axis)
    return [b.computed(*meta[0], y, NHWC)]


def fold_gather_nd(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    params, indices = arrays
    return [params[tuple(np.moveaxis(indices, -1, 0))]]


def emit_gather_nd(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    indices = b.get(ins[1])
    if ins[1].dtype != np.int64:
        indices = b.op("Cast", [indices], node.name, to=TensorProto.INT64)
    y = b.op("GatherND", [b.get(ins[0]), indices], node.name)
    return [b.computed(*meta[0], y, NHWC)]


def fold_static(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Shape / Size / Rank: constants, since every shape is static."""
    dtype = node.attrs.get("out_type", np.int32)
    x = arrays[0]
    value = {"Shape": x.shape, "Size": x.size, "Rank": x.ndim}[node.op]
    return [np.asarray(value, dtype)]


def fold_range(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    start, limit, delta = (a.item() for a in arrays)
    return [np.arange(start, limit, delta).astype(arrays[0].dtype)]


def fold_fill(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [np.full(tuple(int(d) for d in arrays[0]), arrays[1], arrays[1].dtype)]


def emit_fill(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    shape, dtype = meta[0]
    y = b.op("Expand", [b.get(ins[1]), b.ints(shape)], node.name)
    return [b.computed(shape, dtype, y, NHWC)]


def fold_tile(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [np.tile(arrays[0], tuple(int(m) for m in arrays[1]))]


def emit_tile(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    if ins[1].const is None:
        raise UnsupportedModelError(f"{node.name}: Tile multiples must be constants")
    y = b.op("Tile", [b.get(ins[0]), b.ints(ins[1].const.tolist())], node.name)
    return [b.computed(*meta[0], y, NHWC)]


def fold_split(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    axis, x = int(arrays[0]), arrays[1]
    return np.split(x, int(node.attrs["num_split"]), axis=axis)


def emit_split(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    axis = int(ins[0].const) % len(ins[1].shape)
    parts = b.node("Split", [b.get(ins[1])], node.name, n_out=len(meta), axis=axis,
                   num_outputs=len(meta))  # fmt: skip
    return [b.computed(*meta[i], p, NHWC) for i, p in enumerate(parts)]


def fold_transpose(node: Node, arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [np.transpose(arrays[0], tuple(int(p) for p in arrays[1]))]


def emit_transpose(b: OnnxBuilder, node: Node, ins: list[Value], meta: Meta) -> list[Value]:
    if ins[1].const is None:
        raise UnsupportedModelError(f"{node.name}: Transpose perm must be a constant")
    y = b.op("Transpose", [b.get(ins[0])], node.name, perm=[int(p) for p in ins[1].const])
    return [b.computed(*meta[0], y, NHWC)]
