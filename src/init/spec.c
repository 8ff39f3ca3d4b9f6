/* spec.c -- one scheme as text: the table of scheme parameters, the parser of
 * "kaiming_normal(a=0.1, mode=fan_out)" and its inverse.
 *
 * The table is the one place that says which parameters exist, what each
 * takes (a number, an integer, a name) and which schemes read it. Everything
 * that turns words into an nninit_spec reads it: nninit_spec_parse, the
 * architecture grammar's init=/bias= (engine/nn/arch.c, through
 * nninit__spec_parse_at), the JSON scheme objects of architectures (through
 * nninit__spec_param_*), nninit_spec_format and the public queries.
 *
 * A scheme's text is a piece of the architecture grammar (docs/GRAMMAR.md):
 * its names, numbers and the tokens quoted in messages follow that grammar's
 * lexical rules, and every message names the 1-based byte column of the
 * offending token in the caller's whole text ("at 12: ..."), so that a scheme
 * inside an architecture is pointed at where the user wrote it.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NAME_LEN   48 /* longer than any name: a longer word matches nothing */
#define PREFIX_LEN 192

/* ---- the parameter table ------------------------------------------------- */

enum {
    K_NUM,
    K_INT,
    K_MODE,
    K_NL,
    K_DIST
}; /* what a parameter's value is */

enum {
    P_GAIN,
    P_A,
    P_B,
    P_MEAN,
    P_STD,
    P_VALUE,
    P_SCALE,
    P_MODE,
    P_NL,
    P_DIST,
    P_SPARSITY,
    P_GROUPS,
    P_SLOPE, /* kaiming's a again, by its nninit_spec name */
    P_COUNT
};

#define S(x)    (1u << NNINIT_##x)
#define KAIMING (S(KAIMING_UNIFORM) | S(KAIMING_NORMAL))
#define TRUNC   (S(TRUNC_NORMAL) | S(TRUNC_NORMAL_STD))

/* Row order is the order of nninit_spec_format's output and of the lists in
 * messages. Each name is the nninit_spec field it sets, except kaiming's 'a'
 * (PyTorch's name for the negative slope), which sets spec.slope; 'slope' is
 * the same parameter under the field's name, never written by format. */
static const struct {
    const char *name;
    unsigned char kind;
    unsigned schemes; /* bit s: scheme s reads it */
} params[P_COUNT] = {
    [P_GAIN] = {"gain", K_NUM, S(XAVIER_UNIFORM) | S(XAVIER_NORMAL) | S(ORTHOGONAL) | S(DELTA_ORTHOGONAL)},
    [P_A] = {"a", K_NUM, S(UNIFORM) | TRUNC | KAIMING},
    [P_B] = {"b", K_NUM, S(UNIFORM) | TRUNC},
    [P_MEAN] = {"mean", K_NUM, S(NORMAL) | TRUNC},
    [P_STD] = {"std", K_NUM, S(NORMAL) | TRUNC | S(SPARSE)},
    [P_VALUE] = {"value", K_NUM, S(CONSTANT)},
    [P_SCALE] = {"scale", K_NUM, S(VARIANCE_SCALING)},
    [P_MODE] = {"mode", K_MODE, KAIMING | S(VARIANCE_SCALING)},
    [P_NL] = {"nonlinearity", K_NL, KAIMING},
    [P_DIST] = {"distribution", K_DIST, S(VARIANCE_SCALING)},
    [P_SPARSITY] = {"sparsity", K_NUM, S(SPARSE)},
    [P_GROUPS] = {"groups", K_INT, S(DIRAC)},
    [P_SLOPE] = {"slope", K_NUM, KAIMING},
};

static int is_kaiming(nninit_scheme s) { return s == NNINIT_KAIMING_UNIFORM || s == NNINIT_KAIMING_NORMAL; }

static int takes(nninit_scheme s, int k) { return (unsigned)s < NNINIT_SCHEME_COUNT && (params[k].schemes >> s & 1u); }

/* The row a name stands for: 'slope' is kaiming's 'a'. */
static int canon(int k) { return k == P_SLOPE ? P_A : k; }

/* Where numeric parameter k of sp->scheme lives; NULL for the others. */
static double *num_field(nninit_spec *sp, int k) {
    switch (k) {
    case P_GAIN: return &sp->gain;
    case P_A: return is_kaiming(sp->scheme) ? &sp->slope : &sp->a;
    case P_B: return &sp->b;
    case P_MEAN: return &sp->mean;
    case P_STD: return &sp->std;
    case P_VALUE: return &sp->value;
    case P_SCALE: return &sp->scale;
    case P_SPARSITY: return &sp->sparsity;
    case P_SLOPE: return &sp->slope;
    default: return NULL;
    }
}

/* A name-valued parameter (mode, nonlinearity, distribution) as int and text. */
static int name_get(const nninit_spec *sp, int k) {
    return k == P_MODE ? (int)sp->mode : k == P_NL ? (int)sp->nonlinearity : (int)sp->distribution;
}

static const char *name_str(int k, int v) {
    return k == P_MODE ? nninit_mode_name((nninit_mode)v)
           : k == P_NL ? nninit_nonlinearity_name((nninit_nonlinearity)v)
                       : nninit_distribution_name((nninit_distribution)v);
}

static nninit_status vperr(const char *prefix, const char *fmt, va_list ap) {
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return nninit__err(NNINIT_ERR_PARAM, "%s%s", prefix, msg);
}

static nninit_status perr(const char *prefix, const char *fmt, ...) NNINIT_PRINTF(2, 3);
static nninit_status perr(const char *prefix, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    nninit_status st = vperr(prefix, fmt, ap);
    va_end(ap);
    return st;
}

int nninit__spec_param_find(const char *name) {
    for (int k = 0; k < P_COUNT; k++)
        if (strcmp(name, params[k].name) == 0) return k;
    return -1;
}

int nninit__spec_param_takes_name(int k) { return params[k].kind >= K_MODE; }

const char *nninit__spec_param_list(nninit_scheme s, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < P_COUNT && n < cap; k++)
        if (k == canon(k) && takes(s, k))
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", params[k].name);
    if (!n) snprintf(buf, cap, "none");
    return buf;
}

nninit_status nninit__spec_param_check(nninit_scheme s, int k, unsigned *seen, const char *prefix) {
    char list[160];
    if (!takes(s, k))
        return perr(prefix, "%s takes no parameter '%s' (it takes: %s)", nninit_scheme_name(s), params[k].name,
                    nninit__spec_param_list(s, list, sizeof list));
    /* One bit per parameter; bit P_SLOPE remembers that kaiming's 'a' came as 'slope'. */
    unsigned bit = 1u << canon(k), as_slope = *seen >> P_SLOPE & 1u;
    if (*seen & bit)
        return perr(prefix, "parameter '%s' given twice%s", params[k].name,
                    (unsigned)(k == P_SLOPE) != as_slope ? " ('a' and 'slope' are one parameter)" : "");
    *seen |= bit | (k == P_SLOPE ? 1u << P_SLOPE : 0u);
    return NNINIT_OK;
}

nninit_status nninit__spec_param_set_num(nninit_spec *sp, int k, double v, const char *prefix) {
    if (!isfinite(v)) return perr(prefix, "%s must be a finite number", params[k].name);
    if (params[k].kind == K_INT) {
        if (v != floor(v) || v < 1 || v > INT_MAX) return perr(prefix, "%s must be a positive integer", params[k].name);
        sp->groups = (int64_t)v;
        return NNINIT_OK;
    }
    double *f = num_field(sp, k);
    if (!f) return perr(prefix, "%s takes a name, not a number", params[k].name);
    *f = v;
    return NNINIT_OK;
}

nninit_status nninit__spec_param_set_name(nninit_spec *sp, int k, const char *v, const char *prefix) {
    nninit_status st;
    switch (params[k].kind) {
    case K_MODE: st = nninit_mode_parse(v, &sp->mode); break;
    case K_NL: st = nninit_nonlinearity_parse(v, &sp->nonlinearity); break;
    case K_DIST: st = nninit_distribution_parse(v, &sp->distribution); break;
    default: return perr(prefix, "%s takes a number, not a name", params[k].name);
    }
    return st ? perr(prefix, "%s", nninit_last_error()) : NNINIT_OK;
}

int nninit_spec_param_count(void) { return P_COUNT; }

const char *nninit_spec_param_name(int i) { return i >= 0 && i < P_COUNT ? params[i].name : NULL; }

int nninit_scheme_takes_param(nninit_scheme s, const char *name) {
    int k = name ? nninit__spec_param_find(name) : -1;
    return k >= 0 && takes(s, k);
}

/* ---- the text ------------------------------------------------------------ */

typedef struct {
    const char *s;      /* the caller's whole text */
    size_t i;           /* the cursor, a byte index into s */
    const char *prefix; /* what goes before "at N: " in messages */
} lexer;

static int is_delim(char c) { return c != '\0' && strchr("[]()=,", c) != NULL; }
static int is_arrow(const char *s) { return s[0] == '-' && s[1] == '>'; }
static int in_token(const char *s) {
    unsigned char c = (unsigned char)*s;
    return c && isprint(c) && !isspace(c) && !is_delim((char)c) && !is_arrow(s);
}

/* The token at s[i], quoted, for "but found ...": cut as the architecture
 * grammar, in which a scheme may sit, cuts its tokens ('->', '[', ']'). */
static const char *found(const char *s, size_t i, char *buf, size_t cap) {
    unsigned char c = (unsigned char)s[i];
    size_t n = 0;
    if (!c) return "end of input";
    if (is_arrow(s + i)) return "'->'";
    if (!isprint(c)) {
        snprintf(buf, cap, "byte 0x%02x", c);
    } else if (is_delim((char)c)) {
        snprintf(buf, cap, "'%c'", c);
    } else if (isdigit(c)) { /* a number: its digits */
        while (isdigit((unsigned char)s[i + n]) && n < 24) n++;
        snprintf(buf, cap, "'%.*s'", (int)n, s + i);
    } else {
        while (in_token(s + i + n) && n < 24) n++;
        snprintf(buf, cap, "'%.*s%s'", (int)n, s + i, in_token(s + i + n) ? "..." : "");
    }
    return buf;
}

static nninit_status fail_at(const lexer *l, size_t at, const char *fmt, ...) NNINIT_PRINTF(3, 4);
static nninit_status fail_at(const lexer *l, size_t at, const char *fmt, ...) {
    char prefix[PREFIX_LEN];
    snprintf(prefix, sizeof prefix, "%sat %zu: ", l->prefix, at + 1);
    va_list ap;
    va_start(ap, fmt);
    nninit_status st = vperr(prefix, fmt, ap);
    va_end(ap);
    return st;
}

/* "expected WHAT but found TOKEN" at the cursor. */
static nninit_status expect(const lexer *l, const char *what) {
    char buf[48];
    return fail_at(l, l->i, "expected %s but found %s", what, found(l->s, l->i, buf, sizeof buf));
}

static void skip_ws(lexer *l) {
    while (isspace((unsigned char)l->s[l->i])) l->i++;
}

/* A name: [A-Za-z_][A-Za-z0-9_]*, inner '-' allowed before a letter or digit
 * (the grammar's names: "he-zero"). Returns its length (0: none); out gets
 * it, or "" if it does not fit in cap bytes. */
static size_t word(lexer *l, char *out, size_t cap) {
    const char *s = l->s + l->i;
    size_t n = 0;
    if (isalpha((unsigned char)s[0]) || s[0] == '_')
        while (isalnum((unsigned char)s[n]) || s[n] == '_' || (s[n] == '-' && isalnum((unsigned char)s[n + 1]))) n++;
    if (n < cap) {
        memcpy(out, s, n);
        out[n] = '\0';
    } else {
        out[0] = '\0';
    }
    l->i += n;
    return n;
}

/* A finite decimal number (strtod syntax, no inf/nan, no hex). */
static nninit_status number(lexer *l, const char *what, double *out) {
    const char *s = l->s + l->i;
    size_t k = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (!(isdigit((unsigned char)s[k]) || (s[k] == '.' && isdigit((unsigned char)s[k + 1]))) ||
        (s[k] == '0' && (s[k + 1] == 'x' || s[k + 1] == 'X')))
        return expect(l, what);
    char *end;
    double v = strtod(s, &end);
    if (!isfinite(v)) return fail_at(l, l->i, "%.*s is out of range", (int)(end - s), s);
    l->i += (size_t)(end - s);
    *out = v;
    return NNINIT_OK;
}

/* param = key "=" value, set in sp. scheme is the name as the user wrote it. */
static nninit_status param(lexer *l, const char *scheme, nninit_spec *sp, unsigned *seen) {
    size_t at = l->i;
    char key[NAME_LEN], val[NAME_LEN], prefix[PREFIX_LEN], what[64], buf[48];
    word(l, key, sizeof key);
    int k = key[0] ? nninit__spec_param_find(key) : -1;
    if (k < 0) {
        char list[200];
        return fail_at(l, at, "expected a parameter of %s (%s) but found %s", scheme,
                       nninit__spec_param_list(sp->scheme, list, sizeof list), found(l->s, at, buf, sizeof buf));
    }
    snprintf(prefix, sizeof prefix, "%sat %zu: ", l->prefix, at + 1);
    nninit_status st = nninit__spec_param_check(sp->scheme, k, seen, prefix);
    if (st) return st;
    skip_ws(l);
    if (l->s[l->i] != '=') return expect(l, "'='");
    l->i++;
    skip_ws(l);
    size_t vat = l->i;
    snprintf(prefix, sizeof prefix, "%sat %zu: ", l->prefix, vat + 1);
    if (nninit__spec_param_takes_name(k)) {
        if (!word(l, val, sizeof val) || !val[0])
            return fail_at(l, vat, "expected a name for %s but found %s", params[k].name,
                           found(l->s, vat, buf, sizeof buf));
        return nninit__spec_param_set_name(sp, k, val, prefix);
    }
    double v = 0;
    snprintf(what, sizeof what, "a number for %s", params[k].name);
    if ((st = number(l, what, &v))) return st;
    return nninit__spec_param_set_num(sp, k, v, prefix);
}

/* scheme = name [ "(" [ param { "," param } ] ")" ] */
nninit_status nninit__spec_parse_at(const char *text, size_t start, const char *prefix, nninit_spec *out, size_t *end) {
    lexer l = {text, start, prefix};
    char name[NAME_LEN], buf[48];
    nninit_scheme s;
    word(&l, name, sizeof name);
    if (!name[0] || nninit_scheme_parse(name, &s) != NNINIT_OK)
        return fail_at(&l, start,
                       "expected a scheme (e.g. xavier_normal, kaiming_normal(mode=fan_out), normal(std=0.01)) "
                       "but found %s",
                       found(text, start, buf, sizeof buf));
    nninit_spec sp = nninit_spec_default(s);
    unsigned seen = 0;
    if (text[l.i] == '(') {
        l.i++;
        skip_ws(&l);
        if (text[l.i] != ')')
            for (;;) {
                nninit_status st = param(&l, name, &sp, &seen);
                if (st) return st;
                skip_ws(&l);
                if (text[l.i] == ')') break;
                if (text[l.i] != ',') return expect(&l, "',' or ')'");
                l.i++;
                skip_ws(&l);
            }
        l.i++; /* the ')' */
    }
    *out = sp;
    *end = l.i;
    return NNINIT_OK;
}

nninit_status nninit_spec_parse(const char *text, nninit_spec *out) {
    if (!text || !out) return nninit__err(NNINIT_ERR_NULL, "spec_parse: NULL argument");
    lexer l = {text, 0, "scheme: "};
    nninit_spec sp;
    skip_ws(&l);
    nninit_status st = nninit__spec_parse_at(text, l.i, l.prefix, &sp, &l.i);
    if (st) return st;
    skip_ws(&l);
    if (text[l.i]) return expect(&l, "the end of the scheme");
    *out = sp;
    return NNINIT_OK;
}

/* ---- the inverse --------------------------------------------------------- */

/* The shortest "%.*g" that strtod reads back to the same bits; 17 digits
 * always do (IEEE binary64, correctly rounded both ways). */
static void shortest(double v, char *out, size_t cap) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        double back = strtod(out, NULL);
        if (memcmp(&back, &v, sizeof v) == 0) return;
    }
}

/* The text of parameter k of sp ("" when it is nninit_spec_default's: the
 * parser restores it), or why the text form cannot hold it. */
static nninit_status value_text(const nninit_spec *spec, int k, char *out, size_t cap) {
    nninit_spec sp = *spec, def = nninit_spec_default(spec->scheme);
    const char *name = params[k].name;
    out[0] = '\0';
    if (params[k].kind == K_INT) {
        if (sp.groups == def.groups) return NNINIT_OK;
        if (sp.groups < 1 || sp.groups > INT_MAX)
            return nninit__err(NNINIT_ERR_PARAM, "spec_format: %s %lld is not in 1..%d", name, (long long)sp.groups,
                               INT_MAX);
        snprintf(out, cap, "%lld", (long long)sp.groups);
    } else if (params[k].kind != K_NUM) {
        int v = name_get(&sp, k);
        if (v == name_get(&def, k)) return NNINIT_OK;
        if (nninit__spec_param_set_name(&def, k, name_str(k, v), "") || name_get(&def, k) != v)
            return nninit__err(NNINIT_ERR_PARAM, "spec_format: %s %d is not a valid value", name, v);
        snprintf(out, cap, "%s", name_str(k, v));
    } else {
        double v = *num_field(&sp, k); /* bits, not ==: -0 is not 0 */
        if (memcmp(&v, num_field(&def, k), sizeof v) == 0) return NNINIT_OK;
        if (!isfinite(v))
            return nninit__err(NNINIT_ERR_PARAM, "spec_format: %s is %g; the text form holds finite numbers only", name,
                               v);
        shortest(v, out, cap);
    }
    return NNINIT_OK;
}

nninit_status nninit_spec_format(const nninit_spec *spec, char *buf, size_t cap) {
    if (!spec || !buf) return nninit__err(NNINIT_ERR_NULL, "spec_format: NULL argument");
    nninit_scheme s = spec->scheme;
    if ((unsigned)s >= NNINIT_SCHEME_COUNT)
        return nninit__err(NNINIT_ERR_PARAM, "spec_format: unknown scheme %d", (int)s);
    /* The longest text (trunc_normal_std with four 24-character numbers) is
     * 134 bytes: NNINIT_SPEC_TEXT_MAX holds every one. */
    char text[NNINIT_SPEC_TEXT_MAX];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", nninit_scheme_name(s));
    int written = 0;
    for (int k = 0; k < P_COUNT; k++) {
        char val[32];
        if (k != canon(k) || !takes(s, k)) continue;
        nninit_status st = value_text(spec, k, val, sizeof val);
        if (st) return st;
        if (val[0] && n < sizeof text)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%s=%s", written++ ? ", " : "(", params[k].name, val);
    }
    if (written && n < sizeof text) n += (size_t)snprintf(text + n, sizeof text - n, ")");
    if (n >= sizeof text) return nninit__err(NNINIT_ERR_PARAM, "spec_format: text longer than NNINIT_SPEC_TEXT_MAX");
    if (n >= cap)
        return nninit__err(NNINIT_ERR_PARAM, "spec_format: \"%s\" needs %zu bytes, the buffer has %zu", text, n + 1,
                           cap);
    memcpy(buf, text, n + 1);
    return NNINIT_OK;
}
