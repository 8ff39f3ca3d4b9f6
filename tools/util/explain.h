/* explain.h -- what `nninit explain` says besides the numbers: the call of
 * PyTorch, Keras or JAX that draws from the same distribution, and numbers
 * written as Python writes them. Public header (nninit.h) only.
 *
 * Each framework is asked for the same layer, holding the weight in its own
 * layout: PyTorch (out, in/g, k...) for Linear/Conv, the tensor itself for
 * ConvTranspose (IOHW) and Embedding; Keras and JAX (k..., in/g, out). A
 * call is given only where it is exact: same distribution, same parameters,
 * on that framework's weight of the layer (up to the axis permutation that
 * maps one layout onto the other, under which every scheme given here is
 * invariant).
 */
#ifndef NNINIT_TOOLS_EXPLAIN_H
#define NNINIT_TOOLS_EXPLAIN_H

#include <stddef.h>

#include "nninit.h"

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

#endif
