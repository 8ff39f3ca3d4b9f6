"""Whole torch modules: init_module_ re-initializes every parameter with
PyTorch's default for its layer type, or by rules, each keyed by its
qualified name, so that a model's values depend on (seed, names, shapes,
rules) alone: two processes that build the same model in any order, or
on any torch RNG state, get the same state dict, bit for bit.

Layer types and their defaults (the constructors' reset_parameters in
PyTorch 1.13; "preset" means libnninit's layer preset of that name,
include/nninit_presets.h, which reproduces the constructor's arithmetic):

  nn.Linear (and subclasses)      preset torch.Linear: weight
                                  kaiming_uniform(a=sqrt 5), bias U(+-1/sqrt(in))
  nn.Bilinear                     weight, bias U(+-1/sqrt(in1_features))
  nn.Conv1d/2d/3d                 preset torch.Conv1d/2d/3d (groups too)
  nn.ConvTranspose1d/2d/3d        preset torch.ConvTranspose1d/2d/3d
  nn.Embedding, nn.EmbeddingBag   preset torch.Embedding: N(0, 1), the
                                  padding_idx row zero
  nn.LayerNorm                    weight ones, bias zeros (preset torch.LayerNorm
                                  for a 1-D normalized_shape)
  nn.BatchNorm1d/2d/3d, SyncBatchNorm, InstanceNorm1d/2d/3d (affine)
                                  weight ones, bias zeros (preset torch.BatchNorm1d's)
  nn.GroupNorm                    weight ones, bias zeros
  nn.RNN, nn.LSTM (proj_size), nn.GRU
                                  preset torch.RNN/LSTM/GRU: all U(+-1/sqrt(hidden))
  nn.RNNCell, nn.LSTMCell, nn.GRUCell
                                  all U(+-1/sqrt(hidden_size))
  nn.MultiheadAttention           preset torch.MultiheadAttention: in_proj_weight
                                  xavier_uniform, in_proj_bias zeros, bias_k/bias_v
                                  xavier_normal, out_proj.weight as nn.Linear,
                                  out_proj.bias zeros; with kdim/vdim != embed_dim,
                                  q/k/v_proj_weight xavier_uniform
  nn.PReLU                        constant: module.init if the module keeps it,
                                  else 0.25 (the constructor's default)
  containers (Sequential, ModuleList, ModuleDict, Transformer*, ...) have
  no parameters of their own: their children's types decide. nn.Transformer's
  own _reset_parameters (xavier_uniform on every >= 2-D parameter) is not
  applied: pass rules={"*": ...} for that.

Any other parameter (a custom module's nn.Parameter) needs a rule, or
init_module_ raises a ValueError naming it and its module's type.

Rules: a mapping (or a list of pairs) glob pattern -> init, tried in order
on every parameter's qualified name ("encoder.layers.0.linear1.weight");
the first that matches wins over the default. fnmatch.fnmatchcase patterns:
'*' also matches '.', as in nninit's spec files. init is scheme text
("normal(std=0.02)", "kaiming_uniform(a=2.23606797749979)") or a dict
{"init": text, "fans_of": "weight", "padding_idx": 0, "layout": "oihw"}:
fans_of takes a fan-based scheme's fans from another parameter (a name
without '.' replaces the last part of the parameter's own name: the bias of
a layer drawn by its weight's fans); padding_idx zeroes a row after the
fill. Tensors are read with the OIHW rule, as torch.nn.init reads them. A
rule that matches no parameter is an error unless allow_unused_rules.

Every parameter is filled with key nninit_key_from_name(seed, qualified
name); shared (tied) parameters once, under the name named_parameters()
gives them. CPU contiguous parameters are filled in place; others (CUDA,
non-contiguous) through a CPU copy.
"""
import ctypes as _ctypes
import fnmatch
import math

import torch
import torch.nn as nn

from . import _arrays, _core, _lib, layers as _presets

lib = _lib.lib

__all__ = ["init_module_", "init_plan", "COVERED"]

COVERED = ("Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "Embedding", "EmbeddingBag", "LayerNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
           "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "GroupNorm", "RNN", "LSTM", "GRU",
           "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention", "PReLU")


class _Entry:
    """How one parameter is filled: spec on tensor (whose shape and layout
    give the fans), a row zeroed after (or -1), and where that came from."""
    __slots__ = ("spec", "tensor", "zero_row", "source")

    def __init__(self, spec, tensor, zero_row, source):
        self.spec, self.tensor, self.zero_row, self.source = spec, tensor, zero_row, source


def _plain(scheme, shape, source, **params):
    return _Entry(_core.make_spec(scheme, params, "init_module_"), _core.make_tensor(shape, _lib.F32, "init_module_"),
                  -1, source)


def _layer(**kw):
    l = lib.nninit_layer_default()
    for k, v in kw.items():
        if k == "kernel":
            for i, n in enumerate(v):
                l.kernel[i] = n
        else:
            setattr(l, "in_" if k == "in_" else k, int(v))
    return l


def _from_preset(preset, layer):
    ps = _presets._params(preset.encode(), layer, "init_module_")
    return {p.name.decode(): _Entry(p.spec, p.tensor, p.zero_row, "preset " + preset) for p in ps}


def _defaults(m):
    """{parameter name relative to m: _Entry} for m's own parameters (and,
    for MultiheadAttention, its out_proj's), or None for an unknown type."""
    if isinstance(m, nn.Linear):
        return _from_preset("torch.Linear", _layer(in_=m.in_features, out=m.out_features, bias=m.bias is not None))
    if isinstance(m, nn.Bilinear):
        bound = 1 / math.sqrt(m.weight.size(1))
        src = "torch.Bilinear default"
        out = {"weight": _plain("uniform", m.weight.shape, src, a=-bound, b=bound)}
        if m.bias is not None:
            out["bias"] = _plain("uniform", m.bias.shape, src, a=-bound, b=bound)
        return out
    if isinstance(m, nn.modules.conv._ConvNd):
        kind = "ConvTranspose" if m.transposed else "Conv"
        preset = "torch.%s%dd" % (kind, len(m.kernel_size))
        return _from_preset(preset, _layer(in_=m.in_channels, out=m.out_channels, kernel=m.kernel_size,
                                           groups=m.groups, bias=m.bias is not None))
    if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
        pad = m.padding_idx if m.padding_idx is not None else _lib.NO_PADDING_IDX
        return _from_preset("torch.Embedding", _layer(in_=m.num_embeddings, out=m.embedding_dim, padding_idx=pad))
    if isinstance(m, nn.LayerNorm):
        if not m.elementwise_affine:
            return {}
        if len(m.normalized_shape) == 1:
            return _from_preset("torch.LayerNorm", _layer(out=m.normalized_shape[0], bias=1))
        src = "torch.LayerNorm default"
        return {"weight": _plain("ones", m.weight.shape, src), "bias": _plain("zeros", m.bias.shape, src)}
    if isinstance(m, nn.modules.batchnorm._NormBase):
        if not m.affine:
            return {}
        return _from_preset("torch.BatchNorm1d", _layer(out=m.num_features, bias=1))
    if isinstance(m, nn.GroupNorm):
        if not m.affine:
            return {}
        src = "torch.GroupNorm default"
        return {"weight": _plain("ones", m.weight.shape, src), "bias": _plain("zeros", m.bias.shape, src)}
    if isinstance(m, nn.RNNBase):
        preset = {"RNN_TANH": "torch.RNN", "RNN_RELU": "torch.RNN", "LSTM": "torch.LSTM", "GRU": "torch.GRU"}[m.mode]
        kw = dict(in_=m.input_size, out=m.hidden_size, bias=m.bias, num_layers=m.num_layers,
                  bidirectional=m.bidirectional)
        if m.mode == "LSTM":
            kw["proj_size"] = m.proj_size
        return _from_preset(preset, _layer(**kw))
    if isinstance(m, nn.RNNCellBase):
        stdv = 1.0 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0
        src = "torch.%s default" % type(m).__name__
        return {n: _plain("uniform", p.shape, src, a=-stdv, b=stdv) if stdv else _plain("zeros", p.shape, src)
                for n, p in m.named_parameters(recurse=False)}
    if isinstance(m, nn.MultiheadAttention):
        has_bias = m.in_proj_bias is not None
        if m._qkv_same_embed_dim:
            return _from_preset("torch.MultiheadAttention",
                                _layer(out=m.embed_dim, num_heads=m.num_heads, bias=has_bias,
                                       add_bias_kv=m.bias_k is not None))
        src = "torch.MultiheadAttention default"
        out = {n: _plain("xavier_uniform", getattr(m, n).shape, src)
               for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight")}
        lin = _from_preset("torch.Linear", _layer(in_=m.embed_dim, out=m.embed_dim, bias=has_bias))
        out["out_proj.weight"] = lin["weight"]
        if has_bias:
            out["in_proj_bias"] = _plain("zeros", m.in_proj_bias.shape, src)
            out["out_proj.bias"] = _plain("zeros", m.out_proj.bias.shape, src)
        for n in ("bias_k", "bias_v"):
            if getattr(m, n) is not None:
                out[n] = _plain("xavier_normal", getattr(m, n).shape, src)
        return out
    if isinstance(m, nn.PReLU):
        return {"weight": _plain("constant", m.weight.shape, "torch.PReLU default",
                                 value=float(getattr(m, "init", 0.25)))}
    return None


def _rules(rules):
    if rules is None:
        return []
    items = list(rules.items()) if hasattr(rules, "items") else list(rules)
    out = []
    for item in items:
        try:
            pattern, init = item
        except (TypeError, ValueError):
            raise TypeError("init_module_: rules must be a mapping or a list of (pattern, init) pairs") from None
        if not isinstance(pattern, str) or not pattern:
            raise TypeError("init_module_: a rule's pattern must be a non-empty str, not %r" % (pattern,))
        if isinstance(init, str):
            init = {"init": init}
        if not isinstance(init, dict) or "init" not in init:
            raise TypeError("init_module_: rule '%s': init must be scheme text or a dict with 'init'" % pattern)
        unknown = set(init) - {"init", "fans_of", "padding_idx", "layout"}
        if unknown:
            raise ValueError("init_module_: rule '%s': unknown key '%s' (init, fans_of, padding_idx, layout)" %
                             (pattern, sorted(unknown)[0]))
        spec = _core.make_spec(init["init"], {}, "init_module_: rule '%s'" % pattern)
        out.append((pattern, spec, init))
    return out


def _params(module):
    """(qualified name, parameter, owning module, name in it) for every
    distinct parameter, in named_parameters() order."""
    owner = {}
    for mname, m in module.named_modules():
        for pname, p in m.named_parameters(recurse=False):
            owner.setdefault(id(p), (m, mname, pname))
    out = []
    for qname, p in module.named_parameters():
        m, mname, pname = owner[id(p)]
        out.append((qname, p, m, mname))
    return out


def _plan(module, rules, allow_unused_rules):
    if not isinstance(module, nn.Module):
        raise TypeError("init_module_: expected a torch.nn.Module, not %s" % type(module).__name__)
    rules = _rules(rules)
    params = _params(module)
    for qname, p, _, _ in params:
        if isinstance(p, nn.parameter.UninitializedParameter):
            raise ValueError("init_module_: '%s' is uninitialized (a lazy module: run a forward first)" % qname)
    shapes = {q: tuple(p.shape) for q, p, _, _ in params}
    defaults = {}
    for mname, m in module.named_modules():
        d = _defaults(m)
        for rel, e in (d or {}).items():
            defaults.setdefault(mname + "." + rel if mname else rel, e)
    used = [0] * len(rules)
    plan = []
    for qname, p, m, mname in params:
        entry = None
        for i, (pattern, spec, opts) in enumerate(rules):
            if not fnmatch.fnmatchcase(qname, pattern):
                continue
            used[i] += 1
            where = "init_module_: '%s' (rule '%s')" % (qname, pattern)
            t = _core.make_tensor(p.shape, _lib.F32, where, layout=opts.get("layout", "oihw"))
            s = spec
            fo = opts.get("fans_of")
            if fo is not None:
                # as nninit_model_add_rule_fans_of: a name without '.' replaces the last part of qname
                other = fo if "." in fo or "." not in qname else qname.rpartition(".")[0] + "." + fo
                if other not in shapes:
                    raise ValueError("%s: fans_of '%s': no parameter '%s'" % (where, fo, other))
            if fo is not None and lib.nninit_scheme_uses_fans(spec.scheme):
                ft = _core.make_tensor(shapes[other], _lib.F32, where, layout=opts.get("layout", "oihw"))
                _core._check_ndim(spec, len(shapes[other]), where)
                s = _lib.Spec()
                _lib.check(lib.nninit_spec_resolve_fans(_ctypes.byref(spec), _ctypes.byref(ft), _ctypes.byref(s)),
                           where)
                t = _core.make_tensor(p.shape, _lib.F32, where)
            else:
                _core._check_ndim(spec, p.dim(), where)
            pad = opts.get("padding_idx")
            if pad is not None:
                if isinstance(pad, bool) or not isinstance(pad, int):
                    raise TypeError("%s: padding_idx must be an int, not %s" % (where, type(pad).__name__))
                if p.dim() == 0 or not 0 <= pad < p.shape[0]:
                    raise ValueError("%s: padding_idx %d is not a row of shape %s" % (where, pad, tuple(p.shape)))
            entry = _Entry(s, t, -1 if pad is None else pad, "rule '%s'" % pattern)
            break
        if entry is None:
            entry = defaults.get(qname)
            if entry is None:
                raise ValueError("init_module_: no default for parameter '%s' of shape %s (in a %s, which nninit does "
                                 "not cover: %s); give a rule for it" %
                                 (qname, tuple(p.shape), type(m).__name__, ", ".join(COVERED)))
            have = tuple(entry.tensor.shape[i] for i in range(entry.tensor.ndim))
            if have != tuple(p.shape) and not (p.dim() == 0 and have == (1,)):
                raise ValueError("init_module_: '%s' has shape %s; a %s's default makes %s" %
                                 (qname, tuple(p.shape), type(m).__name__, have))
        # every spec checked on its tensor before anything is written
        t = _lib.Tensor.from_buffer_copy(entry.tensor)
        t.dtype = _arrays._torch_dtypes(torch).get(p.dtype, _lib.F32)
        for i in range(t.ndim):  # an empty parameter: checked as if each empty dim were 1
            t.shape[i] = max(1, t.shape[i])
        _lib.check(lib.nninit_explain(_ctypes.byref(entry.spec), _ctypes.byref(t), _ctypes.byref(_lib.Info())),
                   "init_module_: '%s' (%s)" % (qname, entry.source))
        plan.append((qname, p, entry))
    if not allow_unused_rules:
        for (pattern, _, _), n in zip(rules, used):
            if n == 0:
                raise ValueError("init_module_: rule '%s' matches no parameter (allow_unused_rules=True to allow)" %
                                 pattern)
    return plan


def init_plan(module, rules=None, *, allow_unused_rules=False):
    """What init_module_ would do, drawing nothing: a list of dicts name,
    shape, init (canonical scheme text; fans already resolved), source
    ("preset torch.Linear", "rule 'pattern'", "torch.Bilinear default"),
    zero_row (None if none)."""
    return [{"name": q, "shape": tuple(p.shape), "init": _core.spec_text(e.spec), "source": e.source,
             "zero_row": e.zero_row if e.zero_row >= 0 else None}
            for q, p, e in _plan(module, rules, allow_unused_rules)]


def init_module_(module, seed=0, rules=None, *, threads=None, allow_unused_rules=False):
    """Re-initialize every parameter of module in place: the first rule whose
    pattern matches its qualified name, else its layer type's PyTorch
    default (the module docstring lists them), keyed by the qualified name
    with seed. Raises ValueError naming a parameter nothing places. Returns
    module."""
    func = "init_module_"
    plan = _plan(module, rules, allow_unused_rules)
    nthreads = _core.make_threads(threads, func)
    dts = _arrays._torch_dtypes(torch)
    for qname, p, e in plan:
        if p.dtype not in dts:
            raise TypeError("%s: '%s' is %s; nninit fills float32, float64, bfloat16 and float16" %
                            (func, qname, str(p.dtype).replace("torch.", "")))
        if p.device.type == "meta":
            raise ValueError("%s: '%s' is on the meta device (no memory to fill)" % (func, qname))
    with torch.no_grad():
        for qname, p, e in plan:
            direct = p.device.type == "cpu" and p.is_contiguous()
            x = p.data if direct else torch.empty(tuple(p.shape), dtype=p.dtype)
            t = _lib.Tensor.from_buffer_copy(e.tensor)
            t.dtype = dts[p.dtype]
            k = _core.make_key(seed, qname, func)
            if x.numel():
                _lib.check(lib.nninit_fill_threads(_ctypes.byref(e.spec), _ctypes.byref(t), k,
                                                   _ctypes.c_void_p(x.data_ptr()), nthreads),
                           "%s: '%s'" % (func, qname))
                if e.zero_row >= 0:
                    x[e.zero_row].zero_()
            if direct:
                p.view(-1)[:0].zero_()  # bump the version counter, as an in-place op would
            else:
                p.copy_(x)
    return module
