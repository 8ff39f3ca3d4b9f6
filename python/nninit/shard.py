"""Shard-exact fills: any box of a tensor, holding exactly the values the
whole tensor holds there (nninit_fill_box_threads), so every rank of a
tensor-parallel model fills its own shard without the others'.

The fans of a fan-based scheme are the global tensor's: a column shard of a
kaiming_uniform weight has the bound of the whole weight.

DTensor's Shard(dim) placement on a mesh dimension of world_size ranks
splits dim as torch.chunk does: chunks of ceil(size / world_size) elements,
in rank order, the last ones shorter or empty (torch.distributed._tensor's
Shard._split_tensor pads the missing chunks with empty tensors; PyTorch 1.13
has no public DTensor, so the rule is written out here): rank r holds
[min(r*c, size), min((r+1)*c, size)), c = ceil(size / world_size).
"""
import numbers

from . import _arrays, _core

_K = _core.DEFAULT_KEY


def fill_shard_(tensor, scheme, *, global_shape, offsets, seed=0, key=_K, threads=None, layout="oihw", groups=1,
                in_axis=None, out_axis=None, grouped_fan_out=False, **params):
    """Fill tensor, the box of a tensor of global_shape that starts at
    offsets (one per dimension) and has tensor's shape, with exactly the
    values the unsharded tensor has there. scheme and params as fill_()."""
    spec = _core.make_spec(scheme, params, "fill_shard_")
    return _core.fill_box(tensor, spec, "fill_shard_", global_shape, offsets, seed=seed, key=key, threads=threads,
                          layout=layout, groups=groups, in_axis=in_axis, out_axis=out_axis,
                          grouped_fan_out=grouped_fan_out)


def _int(v, what, func):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError("%s: %s must be an int, not %s" % (func, what, type(v).__name__))
    return int(v)


def chunk_range(size, world_size, rank):
    """[begin, end) of rank's chunk of size elements split world_size ways,
    as torch.chunk (and DTensor's Shard) split them."""
    size, world_size, rank = (_int(size, "size", "chunk_range"), _int(world_size, "world_size", "chunk_range"),
                              _int(rank, "rank", "chunk_range"))
    if size < 0:
        raise ValueError("chunk_range: size %d must be >= 0" % size)
    if world_size < 1:
        raise ValueError("chunk_range: world_size %d must be >= 1" % world_size)
    if not 0 <= rank < world_size:
        raise ValueError("chunk_range: rank %d outside 0..%d" % (rank, world_size - 1))
    c = -(-size // world_size)
    return min(rank * c, size), min((rank + 1) * c, size)


def shard_box(global_shape, dim, world_size, rank):
    """(offsets, local_shape) of rank's Shard(dim) piece of a tensor of
    global_shape over world_size ranks (dim may be negative)."""
    gs = tuple(_int(d, "global_shape entries", "shard_box") for d in global_shape)
    d = _int(dim, "dim", "shard_box")
    if not -len(gs) <= d < len(gs):
        raise ValueError("shard_box: dim %d outside the %d dimensions of %s" % (d, len(gs), gs))
    d %= len(gs)
    b, e = chunk_range(gs[d], world_size, rank)
    offsets = tuple(b if i == d else 0 for i in range(len(gs)))
    shape = tuple(e - b if i == d else n for i, n in enumerate(gs))
    return offsets, shape


def fill_dtensor_shard_(tensor, scheme, *, global_shape, dim, world_size, rank, seed=0, key=_K, threads=None,
                        layout="oihw", groups=1, **params):
    """Fill tensor as rank's local piece of a Shard(dim) tensor of
    global_shape over world_size ranks; tensor must have that local shape
    (shard_box)."""
    offsets, shape = shard_box(global_shape, dim, world_size, rank)
    have = tuple(_arrays.view(tensor, "fill_dtensor_shard_").shape)
    if have != shape:
        raise ValueError("fill_dtensor_shard_: rank %d of %d along dim %d of %s holds shape %s, not %s" %
                         (rank, world_size, dim, tuple(global_shape), shape, have))
    return fill_shard_(tensor, scheme, global_shape=global_shape, offsets=offsets, seed=seed, key=key,
                       threads=threads, layout=layout, groups=groups, **params)


def dtensor_shard(scheme, global_shape, *, dim, world_size, rank, dtype="f32", framework="numpy", seed=0, key=_K,
                  threads=None, layout="oihw", groups=1, **params):
    """A new array (framework "numpy", bf16 as uint16 bit patterns, or
    "torch") holding rank's Shard(dim) piece of the tensor of global_shape
    filled with scheme."""
    func = "dtensor_shard"
    offsets, shape = shard_box(global_shape, dim, world_size, rank)
    x = _arrays.empty(shape, _arrays.parse_dtype(dtype, func), framework, func)
    spec = _core.make_spec(scheme, params, func)
    return _core.fill_box(x, spec, func, global_shape, offsets, seed=seed, key=key, threads=threads, layout=layout,
                          groups=groups, bf16_bits=True)
