"""nninit: neural-network weight initialization, exact and reproducible,
in place on NumPy arrays and CPU torch tensors (ctypes over libnninit).

    import nninit, torch
    w = torch.empty(256, 784)
    nninit.kaiming_normal_(w, nonlinearity="relu", seed=42, key="fc1.weight")

Every value is a pure function of (scheme, shape, dtype, seed, key, element
index): the bytes equal `nninit fill SCHEME --shape ... --seed S --key K`'s
and the C API's, whatever the thread count or the machine; a shard filled
with fill_shard_ equals the same box of the whole tensor. Calls release the
GIL while they fill.

Modules (everything but nninit.torch is re-exported here): nninit.init
(torch.nn.init's functions and more), nninit.shard (boxes, DTensor-style
shards), nninit.layers (layer presets), nninit.files (safetensors, recipes,
checkpoints), nninit.torch (init_module_; imports torch), nninit.torch_stream
(torch's own CPU random stream, bit for bit: Generator(seed).normal_(x) is
torch.manual_seed(seed); x.normal_()). The library is found as nninit._lib
describes ($NNINIT_LIBRARY first); nninit.library_path says which was loaded.
"""
from . import _lib
from ._lib import Error
from .files import (checkpoint, load_safetensors, recipe, recipe_tensors, recipes, safetensors_metadata,
                         save_safetensors)
from .init import (calculate_gain, constant_, dirac_, explain, eye_, fill_, kaiming_normal_, kaiming_uniform_,
                   lecun_normal_, lecun_uniform_, normal_, ones_, orthogonal_, sparse_, trunc_normal_,
                   trunc_normal_std_, uniform_, variance_scaling_, xavier_normal_, xavier_uniform_, zeros_)
from .layers import preset, preset_, preset_params, presets
from .shard import chunk_range, dtensor_shard, fill_dtensor_shard_, fill_shard_, shard_box
from . import torch_stream  # nninit.torch_stream.Generator: PyTorch's CPU generator, bit for bit

__version__ = "0.1.0"

library_path = _lib.LIBRARY_PATH


def library_version():
    """The version of the libnninit loaded ("0.1.0")."""
    return _lib.lib.nninit_version_string().decode()


def arch():
    """The fill kernels libnninit runs: avx512, avx2, scalar or portable
    (NNINIT_ARCH overrides; `nninit --version` names the same)."""
    a = _lib.lib.nninit_arch_name()
    if a is None:
        raise _lib.RuntimeError_(_lib.last_error())
    return a.decode()


def schemes():
    """Every scheme: a dict name -> its one-line formula."""
    return {_lib.lib.nninit_scheme_name(i).decode(): _lib.lib.nninit_scheme_formula(i).decode()
            for i in range(len(_lib.SCHEMES))}


__all__ = ["Error", "arch", "calculate_gain", "checkpoint", "chunk_range", "constant_", "dirac_", "dtensor_shard",
           "explain", "eye_", "fill_", "fill_dtensor_shard_", "fill_shard_", "kaiming_normal_", "kaiming_uniform_",
           "lecun_normal_", "lecun_uniform_", "library_path", "library_version", "load_safetensors", "normal_",
           "ones_", "orthogonal_", "preset", "preset_", "preset_params", "presets", "recipe", "recipe_tensors",
           "recipes", "safetensors_metadata", "save_safetensors", "schemes", "shard_box", "sparse_",
           "torch_stream", "trunc_normal_", "trunc_normal_std_", "uniform_", "variance_scaling_", "xavier_normal_",
           "xavier_uniform_", "zeros_"]
