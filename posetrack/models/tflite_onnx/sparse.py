"""TFLite's sparse tensor format, decoded to a dense numpy array (what DENSIFY computes).

A sparse tensor of rank n with k blocked dimensions is stored as a tree of n + k levels:
- `traversal_order` (n + k entries) names the dimension each level walks: 0..n-1 are the
  original dimensions (counted in blocks when blocked), n..n+k-1 are the in-block dimensions;
- `block_map` (k entries) names the original dimension each in-block dimension splits;
- `dims[level]` is DENSE (every index 0..dense_size-1 present) or SPARSE_CSR (for a node at
  position p of the level above, its children are positions segments[p]..segments[p+1]-1 of
  this level, each with index indices[position]).
The leaves, in storage order, are the stored values. A leaf's original index along dimension d
is `block_index * block_size + in_block_index` (block size 1 for unblocked dimensions).
"""

from dataclasses import dataclass

import numpy as np

from posetrack.errors import UnsupportedModelError


@dataclass(frozen=True)
class DimMetadata:
    """One level of the sparse tree: dense with `dense_size` entries, or CSR segments/indices."""

    dense: bool
    dense_size: int = 0
    segments: np.ndarray | None = None
    indices: np.ndarray | None = None


@dataclass(frozen=True)
class SparseFormat:
    """A tensor's sparsity parameters, as in TFLite's `SparsityParameters` table."""

    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    dims: tuple[DimMetadata, ...]


def _expand_level(
    meta: DimMetadata, parent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Children of the nodes at positions `parent`: (child position, child index, parent row)."""
    if meta.dense:
        size = meta.dense_size
        child = np.arange(size, dtype=np.int64)
        position = (parent[:, None] * size + child[None, :]).ravel()
        return position, np.tile(child, len(parent)), np.repeat(np.arange(len(parent)), size)
    if meta.segments is None or meta.indices is None:
        raise ValueError("a SPARSE_CSR level without array_segments / array_indices")
    segments = meta.segments.astype(np.int64)
    starts, ends = segments[parent], segments[parent + 1]
    counts = ends - starts
    if np.any(counts < 0):
        raise ValueError("array_segments are not non-decreasing")
    row = np.repeat(np.arange(len(parent)), counts)
    first_of_row = np.repeat(np.cumsum(counts) - counts, counts)
    position = starts[row] + (np.arange(int(counts.sum())) - first_of_row)
    return position, meta.indices.astype(np.int64)[position], row


def _leaf_indices(fmt: SparseFormat) -> np.ndarray:
    """Per stored value (storage order), its index at every level: shape (values, levels)."""
    parent = np.zeros(1, dtype=np.int64)
    levels = np.zeros((1, 0), dtype=np.int64)
    for meta in fmt.dims:
        parent, index, row = _expand_level(meta, parent)
        levels = np.column_stack([levels[row], index])
    return levels


def densify(values: np.ndarray, shape: tuple[int, ...], fmt: SparseFormat) -> np.ndarray:
    """The dense tensor of `shape` that the sparse `values` with format `fmt` encode."""
    rank, blocks = len(shape), len(fmt.block_map)
    if len(fmt.traversal_order) != rank + blocks or len(fmt.dims) != rank + blocks:
        raise UnsupportedModelError(
            f"sparse tensor of rank {rank} with {blocks} block dimensions has "
            f"{len(fmt.traversal_order)} traversal entries and {len(fmt.dims)} dim_metadata"
        )
    if sorted(fmt.traversal_order) != list(range(rank + blocks)):
        raise UnsupportedModelError(f"bad sparse traversal_order {fmt.traversal_order}")
    block_size = [1] * rank
    for level, dim in enumerate(fmt.traversal_order):
        if dim >= rank:
            block_size[fmt.block_map[dim - rank]] = fmt.dims[level].dense_size
    try:
        levels = _leaf_indices(fmt)
    except (IndexError, ValueError) as exc:
        raise UnsupportedModelError(f"corrupt sparse tensor metadata: {exc}") from exc
    flat = values.reshape(-1)
    if len(levels) != len(flat):
        raise UnsupportedModelError(
            f"sparse tensor metadata describes {len(levels)} values but {len(flat)} are stored"
        )
    index = np.zeros((len(flat), rank), dtype=np.int64)
    for level, dim in enumerate(fmt.traversal_order):
        if dim < rank:
            index[:, dim] += levels[:, level] * block_size[dim]
        else:
            index[:, fmt.block_map[dim - rank]] += levels[:, level]
    if np.any(index >= np.asarray(shape, dtype=np.int64)) or np.any(index < 0):
        raise UnsupportedModelError(f"sparse tensor indices fall outside its shape {shape}")
    dense = np.zeros(shape, dtype=values.dtype)
    dense[tuple(index.T)] = flat
    return dense
