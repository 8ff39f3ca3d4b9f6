/* explain.h -- what `nninit explain` says besides the numbers: the call of
 * PyTorch, Keras or JAX that draws from the same distribution, and numbers
 * written as Python writes them. Public headers only (nninit.h,
 * nninit_presets.h, nninit_nn.h).
 *
 * Each framework is asked for the same layer, holding the weight in its own
 * layout: PyTorch (out, in/g, k...) for Linear/Conv, the tensor itself for
 * ConvTranspose (IOHW) and Embedding; Keras and JAX (k..., in/g, out). A
 * call is given only where it is exact: same distribution, same parameters,
 * on that framework's weight of the layer (up to the axis permutation that
 * maps one layout onto the other, under which every scheme given here is
 * invariant).
 *
 * Also: what a layer preset's parameters reproduce (the framework's layer and
 * its init calls), and the init of each layer of a network as probe and
 * train report it.
 */
#ifndef NNINIT_TOOLS_EXPLAIN_H
#define NNINIT_TOOLS_EXPLAIN_H

#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "nninit.h"
#include "nninit_nn.h"
#include "nninit_presets.h"

typedef enum {
    CLI_FW_TORCH = 0,
    CLI_FW_KERAS = 1,
    CLI_FW_JAX = 2
} cli_framework;

/* The call of framework fw equivalent to nninit's scheme sp on tensor t,
 * whose nninit_explain() is in, as one line of Python into buf (cap bytes,
 * NUL-terminated, truncated if longer; 512 is ample). buf is "" where fw has
 * no equivalent.
 *   torch: "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_in', nonlinearity='relu')"
 *   keras: "keras.initializers.VarianceScaling(scale=2.0, mode='fan_in', distribution='untruncated_normal')"
 *   jax:   "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'normal')"
 * For the fan-based schemes the framework's own fans of its weight must give
 * the fan nninit used, under one of the framework's modes; otherwise the
 * call is the explicit distribution with this tensor's numbers
 * (torch.nn.init.normal_(w, mean=0.0, std=...)), and "" where even that
 * cannot be said (JAX has no normal with a mean, Keras no truncation other
 * than +-2 std, ...). */
void cli_equivalent_call(cli_framework fw, const nninit_spec *sp, const nninit_tensor *t, const nninit_info *in,
                         char *buf, size_t cap);

/* Fewest significant digits, 1..17, that read back (strtod) as x exactly. */
int cli_shortest_digits(double x);

/* x as Python's repr(float) writes it: shortest round-trip digits, fixed
 * notation for decimal exponents in [-4, 16), else d.ddde+XX; always a '.'
 * or an 'e' ("2.0", "0.1", "1e-20", "0.3333333333333333");
 * float('nan'), float('inf'), float('-inf'). Returns buf. */
const char *cli_fmt_py(char *buf, size_t cap, double x);

/* Human output: cli_fmt_py() without a trailing ".0" ("147", "0.5",
 * "1e-07"); "n/a" for NaN (what does not apply), "inf", "-inf". */
const char *cli_fmt_num(char *buf, size_t cap, double x);

/* "constant", "uniform", "normal", "trunc_normal", "structured". */
const char *cli_resolved_name(nninit_resolved k);

/* ---- layer presets (nninit_presets.h) ------------------------------------ */

/* One line on what preset draws, for listings ("" for a name without one). */
const char *cli_preset_summary(const char *preset);

/* The layer's constructor in its framework, with the sizes of l, as Python:
 * "torch.nn.Conv2d(3, 64, kernel_size=(7, 7))", "keras.layers.Dense(64)",
 * "flax.linen.Conv(features=8, kernel_size=(3, 3))". */
void cli_preset_module(const char *preset, const nninit_layer *l, char *buf, size_t cap);

/* The call of the framework's constructor that draws parameter p (its
 * reset_parameters / default initializer), as Python with p's numbers:
 * "torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))",
 * "torch.nn.init.uniform_(bias, -1/math.sqrt(147), 1/math.sqrt(147))",
 * "keras.initializers.GlorotUniform()", "flax.linen.initializers.lecun_normal()". */
void cli_preset_call(const char *preset, const nninit_param *p, char *buf, size_t cap);

/* ---- the init of each layer of a network (probe, train) ------------------ */

/* inits = nninit_arch_inits(arch, default_init): one entry per layer of arch.
 * JSON: the layer's init as an object under parent (key; NULL appends), or
 * null for a layer without parameters:
 *   {"source": "layer" | "preset" | "default" | "pytorch" | "rule",
 *    "preset": "torch" | null, "framework": "torch.Linear" | null,
 *    "weight": P, "bias": P[, "weight2": P, "bias2": P (residual inner layer 1)]}
 * P = {"shape": [..], "scheme": canonical text, "distribution", "mean", "std",
 *      "bound", "lo", "hi"}: the spec filled (a bias's resolved on the
 *      weight's fans) and what it resolves to. */
void cli_layer_init_json(cli_json *j, cJSON *parent, const char *key, const nninit_layer_spec *L,
                         const nninit_layer_init_info *in);
/* The same as text, a line per run of layers with the same init ("init:
 * layers 2-4: preset keras (keras.Dense): weight ~ U(-0.108, 0.108), bias ~
 * 0"), each starting with prefix, wrapped before column width (0: never)
 * with continuation lines indented. */
void cli_arch_inits_print(FILE *f, const nninit_arch *arch, const nninit_layer_init_info *inits, const char *prefix,
                          int width);

#endif
