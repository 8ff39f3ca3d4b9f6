/* arch.c -- architectures from one line of text or from JSON (docs/GRAMMAR.md).
 *
 * Both forms go through one builder: every layer is appended by push(), which
 * follows the activation shape (C, H, W) through the network, fills what the
 * shape decides (a residual block's width), checks what it forbids (conv on a
 * flat input, groups that do not divide, a kernel larger than its padded
 * input, an init scheme that cannot fill the layer's weight) and remembers
 * where the layer came from ("at 14", "layers[3]") for messages. Repeats are
 * copies re-pushed one by one, so a shrinking conv stack is checked per copy.
 *
 * Schemes (init=, bias=, and JSON scheme objects) are the initializer's:
 * nninit__spec_parse_at and the parameter table of src/init/spec.c, so a
 * scheme reads the same here as in nninit_spec_parse.
 *
 * The parse goes into a heap copy: on any failure the caller's arch is
 * untouched. Every parse failure is NNINIT_ERR_PARAM, with a message naming
 * the 1-based byte column (text) or the JSON path, and what was expected.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "nninit_nn.h"
#include "nninit_presets.h"

#define WHERE_LEN  96
#define NAME_LEN   48
#define MAX_DEPTH  32 /* nested groups: '[' inside '[' ... */
#define MAX_REPEAT 1000

/* ---- messages ------------------------------------------------------------ */

static nninit_status fail(const char *where, const char *fmt, ...) NNINIT_PRINTF(2, 3);
static nninit_status fail(const char *where, const char *fmt, ...) {
    char msg[440];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nninit__err(NNINIT_ERR_PARAM, "arch: %s: %s", where, msg);
}

/* "identity, sigmoid, ..., softplus" from the activation table. */
static const char *act_list(char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int a = 0; a < NNINIT_ACT_COUNT && n < cap; a++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", a ? ", " : "", nninit_act_name((nninit_act)a));
    return buf;
}

/* ---- presets: a framework's layer constructors ---------------------------- */

static const char *const preset_names[NNINIT_NN_PRESET_COUNT] = {"none", "torch", "keras", "flax"};
/* [preset][0]: dense, [1]: conv2d; as in include/nninit_presets.h */
static const char *const preset_layers[NNINIT_NN_PRESET_COUNT][2] = {
    {NULL, NULL}, {"torch.Linear", "torch.Conv2d"}, {"keras.Dense", "keras.Conv2D"}, {"flax.Dense", "flax.Conv"}};

const char *nninit_nn_preset_name(nninit_nn_preset p) {
    return (unsigned)p < NNINIT_NN_PRESET_COUNT ? preset_names[p] : NULL;
}

nninit_status nninit_nn_preset_parse(const char *name, nninit_nn_preset *out) {
    if (!name || !out) return nninit__err(NNINIT_ERR_NULL, "preset: NULL argument");
    for (int p = NNINIT_NN_PRESET_TORCH; p < NNINIT_NN_PRESET_COUNT; p++)
        if (strcmp(name, preset_names[p]) == 0) {
            *out = (nninit_nn_preset)p;
            return NNINIT_OK;
        }
    return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "unknown preset '%.40s' (presets: torch, keras, flax)", name);
}

const char *nninit_nn_preset_layer(nninit_nn_preset p, nninit_layer_kind kind) {
    if (p <= NNINIT_NN_PRESET_NONE || p >= NNINIT_NN_PRESET_COUNT) return NULL;
    if (kind == NNINIT_LAYER_DENSE) return preset_layers[p][0];
    if (kind == NNINIT_LAYER_CONV2D) return preset_layers[p][1];
    return NULL;
}

nninit_status nninit_layer_preset_init(nninit_nn_preset p, nninit_layer_kind kind, int out, int in, int kh, int kw,
                                       int groups, nninit_layer_init *init) {
    if (!init) return nninit__err(NNINIT_ERR_NULL, "layer_preset_init: NULL init");
    const char *name = nninit_nn_preset_layer(p, kind);
    if (!name)
        return nninit__err(NNINIT_ERR_PARAM, "layer_preset_init: preset %d has no layer of kind %d (dense or conv2d)",
                           (int)p, (int)kind);
    nninit_layer l = nninit_layer_default();
    l.in = in;
    l.out = out;
    if (kind == NNINIT_LAYER_CONV2D) {
        l.kernel[0] = kh;
        l.kernel[1] = kw;
        l.groups = groups;
    }
    nninit_param prm[2];
    int n = 0;
    nninit_status st = nninit_preset_params(name, &l, prm, 2, &n);
    if (st) return st;
    if (n != 2) /* weight and bias, in that order, for every preset used here */
        return nninit__err(NNINIT_ERR_PARAM, "layer_preset_init: %s has %d parameters, not a weight and a bias", name,
                           n);
    init->weight = prm[0].spec;
    init->bias = prm[1].spec;
    return NNINIT_OK;
}

/* ---- the builder: shapes, limits, derived fields ------------------------- */

typedef struct {
    nninit_arch arch;
    char where[NNINIT_ARCH_MAX_LAYERS][WHERE_LEN];        /* each layer's origin */
    unsigned char width_inferred[NNINIT_ARCH_MAX_LAYERS]; /* res width from shape */
    int c, h, w, flat;                                    /* the activation entering next */
} build;

static nninit_layer_spec layer_defaults(nninit_layer_kind kind) {
    nninit_layer_spec L;
    memset(&L, 0, sizeof L);
    L.kind = kind;
    L.kh = L.kw = 1;
    L.stride = 1;
    L.pad = 0;
    L.groups = 1;
    L.act = NNINIT_ACT_IDENTITY;
    L.act_param = NAN;
    L.has_init = 0;
    L.init.weight = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    L.init.bias = nninit_spec_default(NNINIT_ZEROS);
    L.res_kind = NNINIT_LAYER_DENSE;
    L.res_rule = NNINIT_RES_RULE_NONE;
    L.res_inner_act = NNINIT_ACT_IDENTITY;
    L.alpha = 1.0;
    L.preset = NNINIT_NN_PRESET_NONE;
    return L;
}

static nninit_status set_input(build *b, int c, int h, int w, int flat, const char *where) {
    if ((int64_t)c * h * w > INT_MAX) return fail(where, "input %dx%dx%d has more than %d values", c, h, w, INT_MAX);
    b->arch.in_c = b->c = c;
    b->arch.in_h = b->h = h;
    b->arch.in_w = b->w = w;
    b->flat = flat;
    return NNINIT_OK;
}

static const char *shape_str(const build *b, char *buf, size_t cap) {
    if (b->flat) snprintf(buf, cap, "%d features", b->c);
    else snprintf(buf, cap, "%dx%dx%d", b->c, b->h, b->w);
    return buf;
}

/* Can the layer's init fill its weight and bias? Asked of nninit_explain with
 * the tensors the network will create (OIHW, as PyTorch). */
static nninit_status check_init(const nninit_layer_spec *L, int out, int in, int kh, int kw, int groups,
                                const char *where) {
    if (!L->has_init) return NNINIT_OK;
    int64_t shape[4] = {out, in / groups, kh, kw};
    int conv = kh > 1 || kw > 1 || L->kind == NNINIT_LAYER_CONV2D;
    nninit_tensor wt = nninit_tensor_make(conv ? 4 : 2, shape, NNINIT_F32);
    wt.groups = groups;
    nninit_tensor bt = nninit_tensor_make(1, shape, NNINIT_F32);
    nninit_info info;
    char sh[64];
    if (conv) snprintf(sh, sizeof sh, "(%d, %d, %d, %d)", out, in / groups, kh, kw);
    else snprintf(sh, sizeof sh, "(%d, %d)", out, in);
    if (nninit_explain(&L->init.weight, &wt, &info) != NNINIT_OK)
        return fail(where, "the weight init cannot fill a %s weight: %s", sh, nninit_last_error());
    /* A fan-based bias (bias=kaiming_uniform) is drawn as on the weight, as the engine does. */
    nninit_spec bs;
    if (nninit_spec_resolve_fans(&L->init.bias, &wt, &bs) != NNINIT_OK)
        return fail(where, "the bias init cannot fill a (%d) bias on the fans of the %s weight: %s", out, sh,
                    nninit_last_error());
    if (nninit_explain(&bs, &bt, &info) != NNINIT_OK)
        return fail(where, "the bias init cannot fill a (%d) bias: %s", out, nninit_last_error());
    return NNINIT_OK;
}

/* The network's default preset reaches every layer without an init of its
 * own or a rule; a preset, the layer's or the network's, becomes the init of
 * the framework's layer of these sizes, for every copy of a repeat. */
static nninit_status apply_preset(const build *b, nninit_layer_spec *L, nninit_layer_kind kind, int out, int in, int kh,
                                  int kw, int groups, const char *where) {
    int rule = L->kind == NNINIT_LAYER_RESIDUAL && L->res_rule != NNINIT_RES_RULE_NONE;
    if (b->arch.preset != NNINIT_NN_PRESET_NONE && !L->has_init && !rule) {
        L->preset = b->arch.preset;
        L->has_init = 1;
    }
    if (L->preset == NNINIT_NN_PRESET_NONE) return NNINIT_OK;
    if (nninit_layer_preset_init(L->preset, kind, out, in, kh, kw, groups, &L->init) != NNINIT_OK)
        return fail(where, "preset=%s: %s", nninit_nn_preset_name(L->preset), nninit_last_error());
    return NNINIT_OK;
}

/* The shape after layer L, or why L does not fit the shape before it. */
static nninit_status shape_step(build *b, nninit_layer_spec *L, int inferred_width, const char *where) {
    char sh[64];
    int64_t size;
    switch (L->kind) {
    case NNINIT_LAYER_DENSE: {
        /* On a CxHxW input dense reads the flat C*H*W vector, as after 'flatten'. */
        nninit_status st = apply_preset(b, L, NNINIT_LAYER_DENSE, L->units, b->c * b->h * b->w, 1, 1, 1, where);
        if (st || (st = check_init(L, L->units, b->c * b->h * b->w, 1, 1, 1, where))) return st;
        b->c = L->units;
        b->h = b->w = 1;
        b->flat = 1;
        return NNINIT_OK;
    }
    case NNINIT_LAYER_CONV2D: {
        if (b->flat)
            return fail(where, "conv needs a CxHxW input but gets %s (conv goes before flatten and dense)",
                        shape_str(b, sh, sizeof sh));
        if (b->c % L->groups != 0) return fail(where, "groups %d must divide the %d input channels", L->groups, b->c);
        if (L->units % L->groups != 0)
            return fail(where, "groups %d must divide the %d output channels", L->groups, L->units);
        if (L->pad > L->kh / 2 || L->pad > L->kw / 2)
            return fail(where, "pad %d is more than half the %dx%d kernel", L->pad, L->kh, L->kw);
        int64_t hp = (int64_t)b->h + 2 * (int64_t)L->pad, wp = (int64_t)b->w + 2 * (int64_t)L->pad;
        if (hp < L->kh || wp < L->kw)
            return fail(where, "the %dx%d kernel is larger than the padded input %lldx%lld (%s, pad %d)", L->kh, L->kw,
                        (long long)hp, (long long)wp, shape_str(b, sh, sizeof sh), L->pad);
        int64_t oh = (hp - L->kh) / L->stride + 1, ow = (wp - L->kw) / L->stride + 1;
        size = (int64_t)L->units * oh * ow;
        if (size > INT_MAX)
            return fail(where, "the output %dx%lldx%lld is too large", L->units, (long long)oh, (long long)ow);
        nninit_status st = apply_preset(b, L, NNINIT_LAYER_CONV2D, L->units, b->c, L->kh, L->kw, L->groups, where);
        if (st || (st = check_init(L, L->units, b->c, L->kh, L->kw, L->groups, where))) return st;
        b->c = L->units;
        b->h = (int)oh;
        b->w = (int)ow;
        return NNINIT_OK;
    }
    case NNINIT_LAYER_FLATTEN:
        b->c = b->c * b->h * b->w; /* bounded by INT_MAX on the way in */
        b->h = b->w = 1;
        b->flat = 1;
        return NNINIT_OK;
    case NNINIT_LAYER_RESIDUAL: {
        int conv = L->res_kind == NNINIT_LAYER_CONV2D;
        if (conv && b->flat)
            return fail(where, "res conv needs a CxHxW input but gets %s", shape_str(b, sh, sizeof sh));
        if (!conv) { /* a CxHxW input is read flat, as by dense */
            b->c = b->c * b->h * b->w;
            b->h = b->w = 1;
            b->flat = 1;
        }
        if (inferred_width) L->units = b->c;
        else if (L->units != b->c)
            return fail(where, "res %s %d does not match its input's %d %s (a residual block keeps the shape)",
                        conv ? "conv" : "dense", L->units, b->c, conv ? "channels" : "features");
        nninit_status st = apply_preset(b, L, L->res_kind, L->units, L->units, L->kh, L->kw, 1, where);
        return st ? st : check_init(L, L->units, L->units, L->kh, L->kw, 1, where);
    }
    }
    return fail(where, "unknown layer kind %d", (int)L->kind);
}

/* Appends L (a copy), checked against the shape before it. */
static nninit_status push(build *b, const nninit_layer_spec *L, int inferred_width, const char *origin,
                          const char *msg_where) {
    nninit_arch *a = &b->arch;
    if (a->n_layers >= NNINIT_ARCH_MAX_LAYERS)
        return fail(msg_where, "more than %d layers (NNINIT_ARCH_MAX_LAYERS)", NNINIT_ARCH_MAX_LAYERS);
    nninit_layer_spec l = *L;
    if (inferred_width) l.units = 0;
    nninit_status st = shape_step(b, &l, inferred_width, msg_where);
    if (st) return st;
    a->layers[a->n_layers] = l;
    snprintf(b->where[a->n_layers], WHERE_LEN, "%s", origin);
    b->width_inferred[a->n_layers] = (unsigned char)(inferred_width != 0);
    a->n_layers++;
    return NNINIT_OK;
}

/* Layers [start, n_layers) are one copy of a group: append count-1 more. */
static nninit_status repeat(build *b, int start, int count, const char *where) {
    int n = b->arch.n_layers - start;
    if ((int64_t)start + (int64_t)n * count > NNINIT_ARCH_MAX_LAYERS)
        return fail(where, "%d x %d layers make more than %d layers (NNINIT_ARCH_MAX_LAYERS)", count, n,
                    NNINIT_ARCH_MAX_LAYERS);
    for (int r = 2; r <= count; r++) {
        for (int j = start; j < start + n; j++) {
            char w[WHERE_LEN + 40];
            snprintf(w, sizeof w, "%s (repeat %d of %d)", b->where[j], r, count);
            nninit_status st = push(b, &b->arch.layers[j], b->width_inferred[j], b->where[j], w);
            if (st) return st;
        }
    }
    return NNINIT_OK;
}

/* A residual layer has one act_param, read by both its inner and its output
 * activation (as the engine does): either may set it; both, only alike. */
static nninit_status res_param(nninit_layer_spec *L, double inner, const char *where) {
    if (isnan(inner)) return NNINIT_OK;
    if (!isnan(L->act_param) && L->act_param != inner)
        return fail(where,
                    "the inner (%g) and output (%g) activation parameters differ; a residual block has one "
                    "act_param, shared by both",
                    inner, L->act_param);
    L->act_param = inner;
    return NNINIT_OK;
}

/* ---- the text form ------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t i;
    const char *ctx; /* prefix of "at N" ("" or a JSON path plus ": ") */
    build *b;
    int depth;
} tp;

static int is_delim(char c) { return c != '\0' && strchr("[]()=,", c) != NULL; }
static int is_arrow(const char *s) { return s[0] == '-' && s[1] == '>'; }

/* The token at s+i, quoted, for "but found ...". */
static const char *tok_desc(const char *s, size_t i, char *buf, size_t cap) {
    unsigned char c = (unsigned char)s[i];
    if (!c) return "end of input";
    if (is_arrow(s + i)) return "'->'";
    if (!isprint(c)) {
        snprintf(buf, cap, "byte 0x%02x", c);
        return buf;
    }
    if (is_delim((char)c)) {
        snprintf(buf, cap, "'%c'", c);
        return buf;
    }
    size_t n = 0;
    if (isdigit(c)) { /* a number: its digits ('0' of "0x28x28") */
        while (isdigit((unsigned char)s[i + n]) && n < 24) n++;
        snprintf(buf, cap, "'%.*s'", (int)n, s + i);
        return buf;
    }
    while (s[i + n] && isprint((unsigned char)s[i + n]) && !isspace((unsigned char)s[i + n]) && !is_delim(s[i + n]) &&
           !is_arrow(s + i + n) && n < 24)
        n++;
    int more = s[i + n] && !isspace((unsigned char)s[i + n]) && !is_delim(s[i + n]) && !is_arrow(s + i + n) &&
               isprint((unsigned char)s[i + n]);
    snprintf(buf, cap, "'%.*s%s'", (int)n, s + i, more ? "..." : "");
    return buf;
}

static nninit_status tfail(const tp *p, size_t at, const char *fmt, ...) NNINIT_PRINTF(3, 4);
static nninit_status tfail(const tp *p, size_t at, const char *fmt, ...) {
    char where[WHERE_LEN + 16], msg[400];
    snprintf(where, sizeof where, "%sat %zu", p->ctx, at + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail(where, "%s", msg);
}

/* "expected WHAT but found TOKEN" at the cursor. */
static nninit_status texpect(const tp *p, const char *what) {
    char buf[48];
    return tfail(p, p->i, "expected %s but found %s", what, tok_desc(p->s, p->i, buf, sizeof buf));
}

static void skip_ws(tp *p) {
    while (isspace((unsigned char)p->s[p->i])) p->i++;
}

/* Where a layer's attributes stop. */
static int at_stop(const tp *p) {
    char c = p->s[p->i];
    return c == '\0' || c == ']' || is_arrow(p->s + p->i);
}

/* After a token: a space, '->', ']' or the end must follow ("256tanh" is not two). */
static nninit_status need_boundary(const tp *p) {
    if (at_stop(p) || isspace((unsigned char)p->s[p->i])) return NNINIT_OK;
    return texpect(p, "a space, '->', ']' or end of input");
}

/* A name: [A-Za-z_][A-Za-z0-9_]*, inner '-' allowed before a letter or digit
 * ("he-zero"; "relu->" stops before the arrow). Returns its length (0: none);
 * out gets at most cap-1 bytes of it. */
static size_t read_word(tp *p, char *out, size_t cap) {
    const char *s = p->s;
    size_t i = p->i, n = 0;
    if (!(isalpha((unsigned char)s[i]) || s[i] == '_')) {
        out[0] = '\0';
        return 0;
    }
    while (isalnum((unsigned char)s[i + n]) || s[i + n] == '_' ||
           (s[i + n] == '-' && isalnum((unsigned char)s[i + n + 1])))
        n++;
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(out, s + i, k);
    out[k] = '\0';
    if (n >= cap) out[0] = '\0'; /* too long to be any name: matches nothing */
    p->i += n;
    return n;
}

/* A decimal integer in [min, INT_MAX]; what names it for messages. */
static nninit_status read_int(tp *p, int min, const char *what, int *out) {
    size_t at = p->i;
    if (!isdigit((unsigned char)p->s[at])) return texpect(p, what);
    int64_t v = 0;
    int big = 0;
    while (isdigit((unsigned char)p->s[p->i])) {
        v = v * 10 + (p->s[p->i] - '0');
        if (v > INT_MAX) big = 1, v = INT_MAX;
        p->i++;
    }
    if (big) return tfail(p, at, "%.*s is too large (at most %d)", (int)(p->i - at), p->s + at, INT_MAX);
    if (v < min) {
        char buf[48];
        return tfail(p, at, "expected %s but found %s", what, tok_desc(p->s, at, buf, sizeof buf));
    }
    *out = (int)v;
    return NNINIT_OK;
}

/* A finite decimal number (strtod syntax, no inf/nan, no hex). */
static nninit_status read_num(tp *p, const char *what, double *out) {
    const char *s = p->s + p->i;
    size_t k = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (!(isdigit((unsigned char)s[k]) || (s[k] == '.' && isdigit((unsigned char)s[k + 1]))) ||
        (s[k] == '0' && (s[k + 1] == 'x' || s[k + 1] == 'X')))
        return texpect(p, what);
    char *end;
    double v = strtod(s, &end);
    if (!isfinite(v)) return tfail(p, p->i, "%.*s is out of range", (int)(end - s), s);
    p->i += (size_t)(end - s);
    *out = v;
    return NNINIT_OK;
}

/* act = name [ "(" number ")" ]; only leaky_relu and elu take the number. */
static nninit_status parse_act_at(tp *p, size_t at, const char *name, nninit_act *act, double *param) {
    char list[160];
    if (nninit_act_parse(name, act) != NNINIT_OK) {
        char buf[48];
        return tfail(p, at, "expected an activation (%s) but found %s", act_list(list, sizeof list),
                     tok_desc(p->s, at, buf, sizeof buf));
    }
    *param = NAN;
    if (p->s[p->i] != '(') return NNINIT_OK;
    if (*act != NNINIT_ACT_LEAKY_RELU && *act != NNINIT_ACT_ELU)
        return tfail(p, p->i, "%s takes no parameter (only leaky_relu(slope) and elu(alpha) do)", name);
    p->i++;
    skip_ws(p);
    nninit_status st =
        read_num(p, *act == NNINIT_ACT_ELU ? "elu's alpha (a number)" : "leaky_relu's slope (a number)", param);
    if (st) return st;
    skip_ws(p);
    if (p->s[p->i] != ')') return texpect(p, "')'");
    p->i++;
    return NNINIT_OK;
}

static nninit_status parse_act(tp *p, nninit_act *act, double *param) {
    size_t at = p->i;
    char name[NAME_LEN];
    read_word(p, name, sizeof name);
    return parse_act_at(p, at, name, act, param);
}

/* preset = "torch" | "keras" | "flax" */
static nninit_status parse_preset(tp *p, nninit_nn_preset *out) {
    size_t at = p->i;
    char name[NAME_LEN], buf[48];
    read_word(p, name, sizeof name);
    if (nninit_nn_preset_parse(name, out) != NNINIT_OK)
        return tfail(p, at, "expected a preset (torch, keras, flax) but found %s", tok_desc(p->s, at, buf, sizeof buf));
    return NNINIT_OK;
}

/* scheme = name [ "(" [ key "=" value { "," key "=" value } ] ")" ], by the
 * initializer's parser; its messages point into this text, as ours do. */
static nninit_status parse_scheme(tp *p, nninit_spec *out) {
    char prefix[WHERE_LEN + 16];
    snprintf(prefix, sizeof prefix, "arch: %s", p->ctx);
    return nninit__spec_parse_at(p->s, p->i, prefix, out, &p->i);
}

/* "s2" / "p1" / "g4": a conv attribute letter and a number, or 0 if w is not one. */
static int conv_attr(const char *w) {
    if ((w[0] != 's' && w[0] != 'p' && w[0] != 'g') || !isdigit((unsigned char)w[1])) return 0;
    for (const char *c = w + 1; *c; c++)
        if (!isdigit((unsigned char)*c)) return 0;
    return w[0];
}

/* The attributes after a layer's numbers, in any order, each at most once. */
static nninit_status parse_attrs(tp *p, nninit_layer_spec *L, double *inner_param) {
    int conv = L->kind == NNINIT_LAYER_CONV2D, res = L->kind == NNINIT_LAYER_RESIDUAL;
    int seen_act = 0, seen_s = 0, seen_p = 0, seen_g = 0, seen_rule = 0, seen_out = 0, seen_alpha = 0, seen_init = 0,
        seen_bias = 0, seen_preset = 0;
    char list[160];
    const char *expect = conv  ? "an activation, 'sN', 'pN', 'gN', 'init=', 'bias=', 'preset=', '->' or end of input"
                         : res ? "an inner activation, 'he-zero', 'he-he', 'out=', 'alpha=', 'init=', 'bias=', "
                                 "'preset=', '->' or end of input"
                               : "an activation, 'init=', 'bias=', 'preset=', '->' or end of input";
    static const char excl[] = "preset= sets both the weight's and the bias's init: give preset= or init=/bias=, "
                               "not both";
    for (;;) {
        nninit_status st;
        if (at_stop(p)) return NNINIT_OK;
        size_t at = p->i;
        char w[NAME_LEN];
        if (!read_word(p, w, sizeof w)) return texpect(p, expect);
        size_t after_word = p->i;
        skip_ws(p);
        if (p->s[p->i] == '=') { /* key=value */
            p->i++;
            skip_ws(p);
            int *seen = NULL;
            if (strcmp(w, "init") == 0 || strcmp(w, "bias") == 0) {
                int bias = w[0] == 'b';
                seen = bias ? &seen_bias : &seen_init;
                if (*seen) return tfail(p, at, "'%s=' given twice", w);
                if (seen_preset) return tfail(p, at, "%s", excl);
                if ((st = parse_scheme(p, bias ? &L->init.bias : &L->init.weight)) != NNINIT_OK) return st;
                L->has_init = 1;
            } else if (strcmp(w, "preset") == 0) {
                seen = &seen_preset;
                if (*seen) return tfail(p, at, "'preset=' given twice");
                if (seen_init || seen_bias) return tfail(p, at, "%s", excl);
                if ((st = parse_preset(p, &L->preset)) != NNINIT_OK) return st;
                L->has_init = 1; /* the specs follow from the sizes (apply_preset) */
            } else if (res && strcmp(w, "out") == 0) {
                seen = &seen_out;
                if (*seen) return tfail(p, at, "'out=' given twice");
                if ((st = parse_act(p, &L->act, &L->act_param)) != NNINIT_OK) return st;
            } else if (res && strcmp(w, "alpha") == 0) {
                seen = &seen_alpha;
                if (*seen) return tfail(p, at, "'alpha=' given twice");
                if ((st = read_num(p, "a number for alpha", &L->alpha)) != NNINIT_OK) return st;
            } else {
                char buf[48];
                return tfail(p, at, "expected %s but found %s", expect, tok_desc(p->s, at, buf, sizeof buf));
            }
            *seen = 1;
        } else {
            p->i = after_word;
            int ca = conv ? conv_attr(w) : 0;
            if (ca) {
                int *seen = ca == 's' ? &seen_s : ca == 'p' ? &seen_p : &seen_g;
                if (*seen) return tfail(p, at, "'%c' given twice", ca);
                *seen = 1;
                tp q = *p;
                q.i = at + 1;
                int v;
                if ((st = read_int(&q, ca == 'p' ? 0 : 1,
                                   ca == 's'   ? "a positive stride after 's'"
                                   : ca == 'p' ? "a padding >= 0 after 'p'"
                                               : "a positive group count after 'g'",
                                   &v)) != NNINIT_OK)
                    return st;
                if (ca == 's') L->stride = v;
                else if (ca == 'p') L->pad = v;
                else L->groups = v;
            } else if (res && (strcmp(w, "he-zero") == 0 || strcmp(w, "he-he") == 0)) {
                if (seen_rule) return tfail(p, at, "a second rule '%s'", w);
                seen_rule = 1;
                L->res_rule = strcmp(w, "he-zero") == 0 ? NNINIT_RES_RULE_HE_ZERO : NNINIT_RES_RULE_HE_HE;
            } else {
                nninit_act a;
                if (nninit_act_parse(w, &a) != NNINIT_OK) {
                    char buf[48];
                    if (w[0] == 'x' && isdigit((unsigned char)w[1]))
                        return tfail(p, at, "expected %s but found %s (a repeat count 'xN' follows the ']' of a group)",
                                     expect, tok_desc(p->s, at, buf, sizeof buf));
                    return tfail(p, at, "expected %s but found %s (activations: %s)", expect,
                                 tok_desc(p->s, at, buf, sizeof buf), act_list(list, sizeof list));
                }
                if (seen_act) return tfail(p, at, "a second activation '%s'", w);
                seen_act = 1;
                if (res) {
                    if ((st = parse_act_at(p, at, w, &L->res_inner_act, inner_param)) != NNINIT_OK) return st;
                } else if ((st = parse_act_at(p, at, w, &L->act, &L->act_param)) != NNINIT_OK) {
                    return st;
                }
            }
        }
        if ((st = need_boundary(p)) != NNINIT_OK) return st;
        skip_ws(p);
    }
}

static nninit_status parse_items(tp *p);

/* layer = dense | conv | flatten | res */
static nninit_status parse_layer(tp *p) {
    size_t at = p->i;
    char w[NAME_LEN], where[WHERE_LEN];
    nninit_layer_spec L;
    nninit_status st;
    int inferred = 0;
    snprintf(where, sizeof where, "%sat %zu", p->ctx, at + 1);
    read_word(p, w, sizeof w);
    if (strcmp(w, "dense") == 0) {
        L = layer_defaults(NNINIT_LAYER_DENSE);
        skip_ws(p);
        if ((st = read_int(p, 1, "the number of units (a positive integer)", &L.units))) return st;
    } else if (strcmp(w, "conv") == 0) {
        L = layer_defaults(NNINIT_LAYER_CONV2D);
        skip_ws(p);
        if ((st = read_int(p, 1, "the number of output channels (a positive integer)", &L.units))) return st;
        skip_ws(p);
        if ((st = read_int(p, 1, "a kernel size (3x3 or 3)", &L.kh))) return st;
        L.kw = L.kh;
        if (p->s[p->i] == 'x' && isdigit((unsigned char)p->s[p->i + 1])) {
            p->i++;
            if ((st = read_int(p, 1, "a kernel width", &L.kw))) return st;
        }
    } else if (strcmp(w, "flatten") == 0) {
        L = layer_defaults(NNINIT_LAYER_FLATTEN);
        if ((st = need_boundary(p))) return st;
        skip_ws(p);
        if (!at_stop(p)) return tfail(p, p->i, "flatten takes no arguments; expected '->', ']' or end of input");
        return push(p->b, &L, 0, where, where);
    } else if (strcmp(w, "res") == 0) {
        L = layer_defaults(NNINIT_LAYER_RESIDUAL);
        skip_ws(p);
        size_t kat = p->i;
        char k[NAME_LEN];
        read_word(p, k, sizeof k);
        if (strcmp(k, "dense") == 0) {
            L.res_kind = NNINIT_LAYER_DENSE;
        } else if (strcmp(k, "conv") == 0) {
            L.res_kind = NNINIT_LAYER_CONV2D;
            L.kh = L.kw = 3;
            L.pad = 1;
        } else {
            p->i = kat;
            return texpect(p, "'dense' or 'conv' after 'res'");
        }
        if ((st = need_boundary(p))) return st;
        skip_ws(p);
        inferred = !isdigit((unsigned char)p->s[p->i]);
        if (!inferred && (st = read_int(p, 1, "the block's width (a positive integer)", &L.units))) return st;
    } else {
        p->i = at;
        return texpect(p, "a layer ('dense', 'conv', 'flatten', 'res') or a group '[ ... ] xN'");
    }
    if (!isspace((unsigned char)p->s[p->i - 1]) && (st = need_boundary(p))) return st;
    skip_ws(p);
    double inner_param = NAN;
    if ((st = parse_attrs(p, &L, &inner_param))) return st;
    if (L.kind == NNINIT_LAYER_RESIDUAL && L.res_rule != NNINIT_RES_RULE_NONE && L.has_init)
        return tfail(p, at, "a residual block takes either a rule (he-zero, he-he) or %s, not both",
                     L.preset ? "preset=" : "init=/bias=");
    if ((st = res_param(&L, inner_param, where))) return st;
    return push(p->b, &L, inferred, where, where);
}

/* item = layer | "[" items "]" [ "x" count ] */
static nninit_status parse_item(tp *p) {
    if (p->s[p->i] != '[') return parse_layer(p);
    size_t open = p->i;
    char where[WHERE_LEN];
    snprintf(where, sizeof where, "%sat %zu", p->ctx, open + 1);
    if (p->depth >= MAX_DEPTH) return tfail(p, open, "groups nested more than %d deep", MAX_DEPTH);
    p->i++;
    p->depth++;
    int start = p->b->arch.n_layers;
    nninit_status st = parse_items(p);
    if (st) return st;
    p->depth--;
    skip_ws(p);
    if (p->s[p->i] != ']') {
        char buf[48], what[96];
        snprintf(what, sizeof what, "'->' or ']' (closing the '[' at %zu)", open + 1);
        return tfail(p, p->i, "expected %s but found %s", what, tok_desc(p->s, p->i, buf, sizeof buf));
    }
    p->i++;
    skip_ws(p);
    int count = 1;
    if (p->s[p->i] == 'x') {
        p->i++;
        skip_ws(p);
        size_t cat = p->i;
        if ((st = read_int(p, 1, "a repeat count 1..1000 after 'x'", &count))) return st;
        if (count > MAX_REPEAT) return tfail(p, cat, "repeat count %d is more than %d", count, MAX_REPEAT);
        if ((st = need_boundary(p))) return st;
    }
    return repeat(p->b, start, count, where);
}

/* items = item { "->" item } */
static nninit_status parse_items(tp *p) {
    for (;;) {
        skip_ws(p);
        nninit_status st = parse_item(p);
        if (st) return st;
        skip_ws(p);
        if (!is_arrow(p->s + p->i)) return NNINIT_OK;
        p->i += 2;
    }
}

/* input = int | int "x" int "x" int */
static nninit_status parse_input(tp *p) {
    size_t at = p->i;
    int d[3] = {0, 1, 1}, n = 0;
    nninit_status st;
    if (!isdigit((unsigned char)p->s[p->i])) return texpect(p, "the input: a feature count (784) or CxHxW (1x28x28)");
    for (;;) {
        if ((st = read_int(p, 1, "a positive input dimension", &d[n]))) return st;
        n++;
        if (p->s[p->i] != 'x' || n == 3) break;
        p->i++;
    }
    if (n == 2) return tfail(p, at, "the input must be a feature count (784) or CxHxW (1x28x28), not HxW");
    if ((st = need_boundary(p))) return st;
    char where[WHERE_LEN];
    snprintf(where, sizeof where, "%sat %zu", p->ctx, at + 1);
    return set_input(p->b, d[0], d[1], d[2], n == 1, where);
}

static nninit_status parse_text(build *b, const char *text) {
    tp p = {text, 0, "", b, 0};
    nninit_status st;
    skip_ws(&p);
    if ((st = parse_input(&p))) return st;
    skip_ws(&p);
    size_t at = p.i;
    char w[NAME_LEN];
    if (read_word(&p, w, sizeof w) && strcmp(w, "preset") == 0) {
        /* the network's default: "784 preset=keras -> ..." */
        skip_ws(&p);
        if (p.s[p.i] != '=') return texpect(&p, "'=' and a preset (torch, keras, flax) after 'preset'");
        p.i++;
        skip_ws(&p);
        if ((st = parse_preset(&p, &b->arch.preset)) || (st = need_boundary(&p))) return st;
        skip_ws(&p);
    } else {
        p.i = at;
    }
    if (!is_arrow(p.s + p.i)) return texpect(&p, "'->' and the first layer");
    p.i += 2;
    if ((st = parse_items(&p))) return st;
    skip_ws(&p);
    if (p.s[p.i] != '\0') {
        if (p.s[p.i] == ']') return tfail(&p, p.i, "']' without a matching '['");
        return texpect(&p, "'->' or end of input");
    }
    return NNINIT_OK;
}

/* ---- the JSON form ------------------------------------------------------- */

/* A JSON value, briefly, for "but found ...". */
static const char *json_desc(const cJSON *it, char *buf, size_t cap) {
    if (!it) return "nothing";
    if (cJSON_IsNumber(it)) snprintf(buf, cap, "%.17g", it->valuedouble);
    else if (cJSON_IsString(it))
        snprintf(buf, cap, "\"%.24s%s\"", it->valuestring, strlen(it->valuestring) > 24 ? "..." : "");
    else if (cJSON_IsBool(it)) snprintf(buf, cap, "%s", cJSON_IsTrue(it) ? "true" : "false");
    else if (cJSON_IsNull(it)) snprintf(buf, cap, "null");
    else if (cJSON_IsArray(it)) snprintf(buf, cap, "an array");
    else if (cJSON_IsObject(it)) snprintf(buf, cap, "an object");
    else snprintf(buf, cap, "an invalid value");
    return buf;
}

/* out = a b c, cut to cap-1 bytes (paths are for messages; a cut one still reads). */
static void join3(char *out, size_t cap, const char *a, const char *b, const char *c) {
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    for (int k = 0; k < 3; k++)
        for (const char *q = parts[k]; *q && n + 1 < cap; q++) out[n++] = *q;
    out[n] = '\0';
}

static void path_key(char *out, size_t cap, const char *path, const char *key) {
    join3(out, cap, path, path[0] ? "." : "", key);
}

/* An integer in [min, max] (JSON numbers are doubles: 3.0 is 3). */
static nninit_status json_int(const cJSON *it, const char *path, int min, int max, const char *what, int *out) {
    char buf[64];
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble != floor(it->valuedouble) ||
        it->valuedouble < min)
        return fail(path, "expected %s but found %s", what, json_desc(it, buf, sizeof buf));
    if (it->valuedouble > max)
        return fail(path, "%s must be at most %d, found %s", what, max, json_desc(it, buf, sizeof buf));
    *out = (int)it->valuedouble;
    return NNINIT_OK;
}

/* Every key of obj must be in keys (NULL-terminated), and appear once. */
static nninit_status json_keys(const cJSON *obj, const char *path, const char *const *keys) {
    for (const cJSON *c = obj->child; c; c = c->next) {
        int ok = 0;
        for (const char *const *k = keys; *k; k++) ok |= strcmp(c->string, *k) == 0;
        if (!ok) {
            char list[240];
            size_t n = 0;
            for (const char *const *k = keys; *k && n < sizeof list; k++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *k);
            return fail(path[0] ? path : "top level", "unknown key \"%.40s\" (expected: %s)", c->string, list);
        }
        for (const cJSON *d = obj->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return fail(path[0] ? path : "top level", "key \"%.40s\" given twice", c->string);
    }
    return NNINIT_OK;
}

/* A string in the text syntax (an activation or a scheme), parsed whole. */
typedef nninit_status (*text_fn)(tp *p, void *out);

static nninit_status json_text(build *b, const cJSON *it, const char *path, const char *what, text_fn fn, void *out) {
    char buf[64], ctx[WHERE_LEN + 4];
    if (!cJSON_IsString(it)) return fail(path, "expected %s but found %s", what, json_desc(it, buf, sizeof buf));
    snprintf(ctx, sizeof ctx, "%s: ", path);
    tp p = {it->valuestring, 0, ctx, b, 0};
    skip_ws(&p);
    nninit_status st = fn(&p, out);
    if (st) return st;
    skip_ws(&p);
    if (p.s[p.i]) return texpect(&p, "the end of the string");
    return NNINIT_OK;
}

typedef struct {
    nninit_act act;
    double param;
} act_out;

static nninit_status text_act(tp *p, void *out) {
    act_out *a = out;
    return parse_act(p, &a->act, &a->param);
}

static nninit_status text_scheme(tp *p, void *out) { return parse_scheme(p, out); }

/* init: "xavier_normal", "normal(std=0.01)" or {"scheme": "normal", "std": 0.01}. */
static nninit_status json_scheme(build *b, const cJSON *it, const char *path, nninit_spec *out) {
    char buf[300], kp[WHERE_LEN];
    if (cJSON_IsString(it)) return json_text(b, it, path, "a scheme", text_scheme, out);
    if (!cJSON_IsObject(it))
        return fail(path,
                    "expected a scheme (\"xavier_normal\" or {\"scheme\": \"normal\", \"std\": 0.01}) but found %s",
                    json_desc(it, buf, sizeof buf));
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "scheme");
    path_key(kp, sizeof kp, path, "scheme");
    nninit_scheme s;
    if (!cJSON_IsString(name))
        return fail(kp, "expected a scheme name (e.g. \"kaiming_normal\") but found %s",
                    json_desc(name, buf, sizeof buf));
    if (nninit_scheme_parse(name->valuestring, &s) != NNINIT_OK) return fail(kp, "%s", nninit_last_error());
    nninit_spec sp = nninit_spec_default(s);
    unsigned seen = 0;
    for (const cJSON *c = it->child; c; c = c->next) {
        if (strcmp(c->string, "scheme") == 0) continue;
        char prefix[WHERE_LEN + 16];
        path_key(kp, sizeof kp, path, c->string);
        snprintf(prefix, sizeof prefix, "arch: %s: ", kp);
        int k = nninit__spec_param_find(c->string);
        if (k < 0)
            return fail(kp, "unknown parameter \"%.40s\" (%s takes: %s)", c->string, nninit_scheme_name(s),
                        nninit__spec_param_list(s, buf, sizeof buf));
        nninit_status st = nninit__spec_param_check(s, k, &seen, prefix);
        if (st) return st;
        if (!nninit__spec_param_takes_name(k)) {
            if (!cJSON_IsNumber(c)) return fail(kp, "expected a number but found %s", json_desc(c, buf, sizeof buf));
            st = nninit__spec_param_set_num(&sp, k, c->valuedouble, prefix);
        } else {
            if (!cJSON_IsString(c)) return fail(kp, "expected a name but found %s", json_desc(c, buf, sizeof buf));
            st = nninit__spec_param_set_name(&sp, k, c->valuestring, prefix);
        }
        if (st) return st;
    }
    *out = sp;
    return NNINIT_OK;
}

static nninit_status json_items(build *b, const cJSON *arr, const char *path, int depth);

static nninit_status json_layer(build *b, const cJSON *o, const char *path, int depth) {
    static const char *const k_dense[] = {"type", "units", "act", "init", "bias", "preset", "repeat", NULL};
    static const char *const k_conv[] = {"type", "units", "kernel", "stride", "pad",    "groups",
                                         "act",  "init",  "bias",   "preset", "repeat", NULL};
    static const char *const k_flatten[] = {"type", "repeat", NULL};
    static const char *const k_res[] = {"type", "block", "units", "act",    "out",    "alpha",
                                        "rule", "init",  "bias",  "preset", "repeat", NULL};
    static const char *const k_group[] = {"type", "layers", "repeat", NULL};
    char buf[64], kp[WHERE_LEN];
    nninit_status st;
    if (!cJSON_IsObject(o))
        return fail(path, "expected a layer object ({\"type\": \"dense\", ...}) but found %s",
                    json_desc(o, buf, sizeof buf));
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    path_key(kp, sizeof kp, path, "type");
    if (!cJSON_IsString(type))
        return fail(kp, "expected \"dense\", \"conv\", \"flatten\", \"res\" or \"group\" but found %s",
                    json_desc(type, buf, sizeof buf));
    const char *t = type->valuestring;
    const char *const *keys = strcmp(t, "dense") == 0     ? k_dense
                              : strcmp(t, "conv") == 0    ? k_conv
                              : strcmp(t, "flatten") == 0 ? k_flatten
                              : strcmp(t, "res") == 0     ? k_res
                              : strcmp(t, "group") == 0   ? k_group
                                                          : NULL;
    if (!keys)
        return fail(kp, "expected \"dense\", \"conv\", \"flatten\", \"res\" or \"group\" but found %s",
                    json_desc(type, buf, sizeof buf));
    if ((st = json_keys(o, path, keys))) return st;

    int count = 1;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "repeat");
    if (it) {
        path_key(kp, sizeof kp, path, "repeat");
        if ((st = json_int(it, kp, 1, MAX_REPEAT, "a repeat count 1..1000", &count))) return st;
    }
    int start = b->arch.n_layers;

    if (keys == k_group) {
        it = cJSON_GetObjectItemCaseSensitive(o, "layers");
        path_key(kp, sizeof kp, path, "layers");
        if (depth >= MAX_DEPTH) return fail(kp, "groups nested more than %d deep", MAX_DEPTH);
        if ((st = json_items(b, it, kp, depth + 1))) return st;
        return repeat(b, start, count, path);
    }

    nninit_layer_spec L;
    int inferred = 0;
    if (keys == k_dense) L = layer_defaults(NNINIT_LAYER_DENSE);
    else if (keys == k_conv) L = layer_defaults(NNINIT_LAYER_CONV2D);
    else if (keys == k_flatten) L = layer_defaults(NNINIT_LAYER_FLATTEN);
    else L = layer_defaults(NNINIT_LAYER_RESIDUAL);

    if (keys == k_res) {
        it = cJSON_GetObjectItemCaseSensitive(o, "block");
        path_key(kp, sizeof kp, path, "block");
        if (cJSON_IsString(it) && strcmp(it->valuestring, "dense") == 0) {
            L.res_kind = NNINIT_LAYER_DENSE;
        } else if (cJSON_IsString(it) && strcmp(it->valuestring, "conv") == 0) {
            L.res_kind = NNINIT_LAYER_CONV2D;
            L.kh = L.kw = 3;
            L.pad = 1;
        } else {
            return fail(kp, "expected \"dense\" or \"conv\" but found %s", json_desc(it, buf, sizeof buf));
        }
    }
    it = cJSON_GetObjectItemCaseSensitive(o, "units");
    path_key(kp, sizeof kp, path, "units");
    if (keys == k_dense || keys == k_conv || (keys == k_res && it)) {
        if ((st = json_int(it, kp, 1, INT_MAX, "a positive integer", &L.units))) return st;
    } else if (keys == k_res) {
        inferred = 1;
    }
    if (keys == k_conv) {
        it = cJSON_GetObjectItemCaseSensitive(o, "kernel");
        path_key(kp, sizeof kp, path, "kernel");
        if (cJSON_IsArray(it)) {
            char ip[WHERE_LEN];
            if (cJSON_GetArraySize(it) != 2)
                return fail(kp, "expected a kernel size 3 or [3, 3] but found an array of %d", cJSON_GetArraySize(it));
            join3(ip, sizeof ip, kp, "[0]", "");
            if ((st = json_int(cJSON_GetArrayItem(it, 0), ip, 1, INT_MAX, "a positive integer", &L.kh))) return st;
            join3(ip, sizeof ip, kp, "[1]", "");
            if ((st = json_int(cJSON_GetArrayItem(it, 1), ip, 1, INT_MAX, "a positive integer", &L.kw))) return st;
        } else {
            if ((st = json_int(it, kp, 1, INT_MAX, "a kernel size 3 or [3, 3]", &L.kh))) return st;
            L.kw = L.kh;
        }
        static const char *const names[] = {"stride", "pad", "groups"};
        int *dst[] = {&L.stride, &L.pad, &L.groups};
        for (int k = 0; k < 3; k++) {
            it = cJSON_GetObjectItemCaseSensitive(o, names[k]);
            path_key(kp, sizeof kp, path, names[k]);
            if (it && (st = json_int(it, kp, k == 1 ? 0 : 1, INT_MAX, k == 1 ? "an integer >= 0" : "a positive integer",
                                     dst[k])))
                return st;
        }
    }
    double inner_param = NAN;
    it = cJSON_GetObjectItemCaseSensitive(o, "act");
    if (it) {
        act_out a = {NNINIT_ACT_IDENTITY, NAN};
        path_key(kp, sizeof kp, path, "act");
        if ((st = json_text(b, it, kp, "an activation (\"relu\", \"leaky_relu(0.2)\")", text_act, &a))) return st;
        if (keys == k_res) L.res_inner_act = a.act, inner_param = a.param;
        else L.act = a.act, L.act_param = a.param;
    }
    if (keys == k_res) {
        it = cJSON_GetObjectItemCaseSensitive(o, "out");
        if (it) {
            act_out a = {NNINIT_ACT_IDENTITY, NAN};
            path_key(kp, sizeof kp, path, "out");
            if ((st = json_text(b, it, kp, "an activation (\"relu\", \"leaky_relu(0.2)\")", text_act, &a))) return st;
            L.act = a.act;
            L.act_param = a.param;
        }
        it = cJSON_GetObjectItemCaseSensitive(o, "alpha");
        if (it) {
            path_key(kp, sizeof kp, path, "alpha");
            if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
                return fail(kp, "expected a number but found %s", json_desc(it, buf, sizeof buf));
            L.alpha = it->valuedouble;
        }
        it = cJSON_GetObjectItemCaseSensitive(o, "rule");
        if (it) {
            path_key(kp, sizeof kp, path, "rule");
            if (cJSON_IsString(it) && strcmp(it->valuestring, "he-zero") == 0) L.res_rule = NNINIT_RES_RULE_HE_ZERO;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "he-he") == 0) L.res_rule = NNINIT_RES_RULE_HE_HE;
            else return fail(kp, "expected \"he-zero\" or \"he-he\" but found %s", json_desc(it, buf, sizeof buf));
        }
    }
    static const char *const inits[] = {"init", "bias"};
    for (int k = 0; k < 2; k++) {
        it = cJSON_GetObjectItemCaseSensitive(o, inits[k]);
        if (!it) continue;
        path_key(kp, sizeof kp, path, inits[k]);
        if ((st = json_scheme(b, it, kp, k ? &L.init.bias : &L.init.weight))) return st;
        L.has_init = 1;
    }
    it = cJSON_GetObjectItemCaseSensitive(o, "preset");
    if (it) {
        path_key(kp, sizeof kp, path, "preset");
        if (L.has_init)
            return fail(kp, "\"preset\" sets both the weight's and the bias's init: give \"preset\" or "
                            "\"init\"/\"bias\", not both");
        if (!cJSON_IsString(it) || nninit_nn_preset_parse(it->valuestring, &L.preset) != NNINIT_OK)
            return fail(kp, "expected a preset (\"torch\", \"keras\", \"flax\") but found %s",
                        json_desc(it, buf, sizeof buf));
        L.has_init = 1;
    }
    if (keys == k_res && L.res_rule != NNINIT_RES_RULE_NONE && L.has_init)
        return fail(path, "a residual block takes either a rule (he-zero, he-he) or %s, not both",
                    L.preset ? "preset" : "init/bias");
    if ((st = res_param(&L, inner_param, path))) return st;
    if ((st = push(b, &L, inferred, path, path))) return st;
    return repeat(b, start, count, path);
}

static nninit_status json_items(build *b, const cJSON *arr, const char *path, int depth) {
    char buf[64], ip[WHERE_LEN];
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return fail(path, "expected a non-empty array of layers but found %s",
                    arr && cJSON_IsArray(arr) ? "[]" : json_desc(arr, buf, sizeof buf));
    int idx = 0;
    for (const cJSON *c = arr->child; c; c = c->next, idx++) {
        snprintf(ip, sizeof ip, "%s[%d]", path, idx);
        nninit_status st = json_layer(b, c, ip, depth);
        if (st) return st;
    }
    return NNINIT_OK;
}

static nninit_status parse_json(build *b, const char *json) {
    static const char *const k_top[] = {"input", "preset", "layers", NULL};
    const char *end = NULL;
    char buf[64];
    cJSON *root = cJSON_ParseWithOpts(json, &end, 1);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0, line = 1;
        for (size_t k = 0; k < at; k++) line += json[k] == '\n';
        return fail("JSON", "syntax error at %zu (line %zu) near %s", at + 1, line,
                    tok_desc(json, at, buf, sizeof buf));
    }
    nninit_status st;
    if (!cJSON_IsObject(root)) {
        st = fail("JSON", "expected an object {\"input\": ..., \"layers\": [...]} but found %s",
                  json_desc(root, buf, sizeof buf));
        goto done;
    }
    if ((st = json_keys(root, "", k_top))) goto done;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    int d[3] = {0, 1, 1}, n = 0;
    if (cJSON_IsNumber(in)) {
        if ((st = json_int(in, "input", 1, INT_MAX, "a positive feature count", &d[0]))) goto done;
        n = 1;
    } else if (cJSON_IsArray(in) && (cJSON_GetArraySize(in) == 1 || cJSON_GetArraySize(in) == 3)) {
        for (const cJSON *c = in->child; c; c = c->next, n++) {
            char ip[32];
            snprintf(ip, sizeof ip, "input[%d]", n);
            if ((st = json_int(c, ip, 1, INT_MAX, "a positive integer", &d[n]))) goto done;
        }
    } else {
        st = fail("input", "expected [features] or [C, H, W] (e.g. [784], [1, 28, 28]) but found %s",
                  in ? (cJSON_IsArray(in) ? "an array of another length" : json_desc(in, buf, sizeof buf)) : "nothing");
        goto done;
    }
    if ((st = set_input(b, d[0], d[1], d[2], n == 1, "input"))) goto done;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(root, "preset");
    if (pr && (!cJSON_IsString(pr) || nninit_nn_preset_parse(pr->valuestring, &b->arch.preset) != NNINIT_OK)) {
        st = fail("preset", "expected a preset (\"torch\", \"keras\", \"flax\") but found %s",
                  json_desc(pr, buf, sizeof buf));
        goto done;
    }
    st = json_items(b, cJSON_GetObjectItemCaseSensitive(root, "layers"), "layers", 0);
done:
    cJSON_Delete(root);
    return st;
}

/* ---- entry points ---------------------------------------------------------- */

static nninit_status parse_into(const char *src, nninit_arch *arch, int json) {
    if (!src || !arch) return nninit__err(NNINIT_ERR_NULL, "arch: NULL argument");
    build *b = malloc(sizeof *b);
    if (!b) return nninit__err(NNINIT_ERR_NOMEM, "arch: out of memory");
    memset(&b->arch, 0, offsetof(nninit_arch, layers));
    b->arch.n_layers = 0;
    nninit_status st = json ? parse_json(b, src) : parse_text(b, src);
    if (st == NNINIT_OK) {
        memcpy(arch, &b->arch, offsetof(nninit_arch, layers) + (size_t)b->arch.n_layers * sizeof(nninit_layer_spec));
        /* The unused tail is zeroed: no stale layers of an earlier parse. */
        memset(arch->layers + b->arch.n_layers, 0,
               (size_t)(NNINIT_ARCH_MAX_LAYERS - b->arch.n_layers) * sizeof(nninit_layer_spec));
    }
    free(b);
    return st;
}

nninit_status nninit_arch_parse(const char *text, nninit_arch *arch) { return parse_into(text, arch, 0); }

/* The layers pushed again, one by one, with the network's default preset
 * set: the builder applies it and checks every layer as the parsers do. */
nninit_status nninit_arch_set_preset(nninit_arch *arch, nninit_nn_preset p) {
    if (!arch) return nninit__err(NNINIT_ERR_NULL, "arch: NULL argument");
    if (p <= NNINIT_NN_PRESET_NONE || p >= NNINIT_NN_PRESET_COUNT)
        return nninit__err(NNINIT_ERR_PARAM, "arch: preset %d is not torch, keras or flax", (int)p);
    if (arch->preset != NNINIT_NN_PRESET_NONE && arch->preset != p)
        return nninit__err(NNINIT_ERR_PARAM, "arch: the network's preset is %s already; it cannot also be %s",
                           nninit_nn_preset_name(arch->preset) ? nninit_nn_preset_name(arch->preset) : "unknown",
                           nninit_nn_preset_name(p));
    if (arch->n_layers < 1 || arch->n_layers > NNINIT_ARCH_MAX_LAYERS)
        return nninit__err(NNINIT_ERR_PARAM, "arch: %d layers, need 1..%d", arch->n_layers, NNINIT_ARCH_MAX_LAYERS);
    if (arch->in_c < 1 || arch->in_h < 1 || arch->in_w < 1)
        return nninit__err(NNINIT_ERR_PARAM, "arch: input %dx%dx%d", arch->in_c, arch->in_h, arch->in_w);
    build *b = malloc(sizeof *b);
    if (!b) return nninit__err(NNINIT_ERR_NOMEM, "arch: out of memory");
    memset(&b->arch, 0, offsetof(nninit_arch, layers));
    nninit_status st = set_input(b, arch->in_c, arch->in_h, arch->in_w, 0, "input");
    b->arch.preset = p;
    for (int i = 0; !st && i < arch->n_layers; i++) {
        char where[WHERE_LEN];
        snprintf(where, sizeof where, "layers[%d]", i);
        st = push(b, &arch->layers[i], 0, where, where);
    }
    if (st == NNINIT_OK) {
        memcpy(arch->layers, b->arch.layers, (size_t)arch->n_layers * sizeof(nninit_layer_spec));
        arch->preset = p;
    }
    free(b);
    return st;
}

nninit_status nninit_arch_parse_json(const char *json, nninit_arch *arch) { return parse_into(json, arch, 1); }
