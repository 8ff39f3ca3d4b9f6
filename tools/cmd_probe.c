#define _POSIX_C_SOURCE 200809L
/* cmd_probe.c -- `nninit probe`: a network at init, layer by layer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "explain.h"
#include "json.h"
#include "opt.h"
#include "nninit_probe.h"
#include "probe_html.h"

int cmd_probe(int argc, char **argv);

static const char probe_usage[] =
    "usage: nninit probe --arch \"784 -> [dense 256 tanh] x20 -> dense 10\" [options]\n"
    "\n"
    "Runs a batch through the network at init and reports, per layer, activation and\n"
    "gradient statistics, saturation, dead and symmetric units, and the correlation of\n"
    "two inputs by depth, next to mean-field theory; then findings and what to change.\n"
    "Options take a value as --opt VALUE or --opt=VALUE, each at most once.\n"
    "\n"
    "  --arch TEXT         architecture (docs/GRAMMAR.md)\n"
    "  --arch-json FILE    architecture as JSON\n"
    "  --init SCHEME       weight init of layers without their own, e.g. xavier_normal,\n"
    "                      'kaiming_normal(nonlinearity=leaky_relu,a=0.2)', 'normal(std=0.01)',\n"
    "                      zeros (default: PyTorch's nn.Linear default)\n"
    "  --bias SCHEME       bias init (default zeros when --init is given); a fan-based scheme\n"
    "                      (kaiming_uniform, ...) takes its fans from the layer's weight\n"
    "  --preset NAME       torch, keras or flax: every dense and conv layer without its own\n"
    "                      init gets that framework's layer init on its sizes (torch.Linear /\n"
    "                      torch.Conv2d, keras.Dense / keras.Conv2D, flax.Dense / flax.Conv);\n"
    "                      not with --init/--bias. The init of every layer is printed\n"
    "                      (--json: \"init\" per layer)\n"
    "  --input KIND        gaussian (default) or fashion (Fashion-MNIST, Debian's\n"
    "                      dataset-fashion-mnist)\n"
    "  --data DIR          Fashion-MNIST directory\n"
    "  --batch N           batch size (256)\n"
    "  --lr X              SGD step for the update ratio and the symmetry check (0.1)\n"
    "  --steps K           SGD steps before counting distinct units again (10)\n"
    "  --corr C            correlation of the two probe inputs (0)\n"
    "  --seed N            seed of weights and inputs (0)\n"
    "  --threads N         OpenBLAS threads (default: OpenBLAS's own choice)\n"
    "  --matmul KIND       blas (default: OpenBLAS's sgemm) or reference (the engine's plain-C\n"
    "                      product: each element summed over k in order, rounded the same on\n"
    "                      every CPU, so a constant init's units stay bit-identical; slower)\n"
    "  --lsuv              LSUV (orthogonal pre-init unless --init or --preset, unit variance\n"
    "                      per layer) first\n"
    "  --wide              every column (default: the table fits 100 columns)\n"
    "  --json              one JSON object on stdout\n"
    "  --html FILE         a self-contained HTML report (inline SVG)\n"
    "  --hist-axes MODE    HTML histograms on one shared x-axis per network (shared,\n"
    "                      default) or each on its own range (layer)\n"
    "\n"
    "Findings (hidden layers = all but the output layer; docs/PROBE.md says why):\n"
    "  vanishing/exploding  pre-activation std (or gradient std) of the last hidden layer\n"
    "                       over the first's beyond 16x either way, or its per-layer\n"
    "                       geometric mean outside [0.5, 2]; or the mean field, iterated\n"
    "                       to twice this depth, changes the variance beyond 16^2\n"
    "  loss                 loss at init above 2 ln(classes) (huge logits)\n"
    "  saturated            over 50% of a tanh/sigmoid layer's units saturated\n"
    "  dead                 over 20% of a relu layer's units zero on the whole batch\n"
    "  symmetric            a layer with 1 distinct unit at init and after --steps\n"
    "  collapse             the two inputs' correlation c at the last hidden layer has\n"
    "                       1 - c below 0.1 (1 - c0)\n"
    "  chaos                mean field c* < 0.9 with depth >= xi_c (or, with --corr\n"
    "                       c0 >= 0.5, c falls by more than 0.3)\n"
    "  healthy              none of these; the line gives every rate it checked\n"
    "A probe that runs over 2 s prints its progress on stderr (NNINIT_PROBE_PROGRESS_AFTER=S\n"
    "sets the seconds).\n";

static int bad(const char *fmt, const char *a) { return cli_bad("probe", fmt, a); }

/* The options (opt.h: "--opt value" or "--opt=value", each at most once). */
enum {
    P_ARCH,
    P_ARCH_JSON,
    P_INIT,
    P_BIAS,
    P_PRESET,
    P_INPUT,
    P_DATA,
    P_BATCH,
    P_LR,
    P_STEPS,
    P_CORR,
    P_SEED,
    P_THREADS,
    P_LSUV,
    P_WIDE,
    P_JSON,
    P_HTML,
    P_HIST_AXES,
    P_MATMUL
};
static const cli_opt probe_opts[] = {
    {"--arch", NULL, P_ARCH, CLI_OPT_VALUE},       {"--arch-json", NULL, P_ARCH_JSON, CLI_OPT_VALUE},
    {"--init", NULL, P_INIT, CLI_OPT_VALUE},       {"--bias", NULL, P_BIAS, CLI_OPT_VALUE},
    {"--preset", NULL, P_PRESET, CLI_OPT_VALUE},   {"--input", NULL, P_INPUT, CLI_OPT_VALUE},
    {"--data", NULL, P_DATA, CLI_OPT_VALUE},       {"--batch", NULL, P_BATCH, CLI_OPT_VALUE},
    {"--lr", NULL, P_LR, CLI_OPT_VALUE},           {"--steps", NULL, P_STEPS, CLI_OPT_VALUE},
    {"--corr", NULL, P_CORR, CLI_OPT_VALUE},       {"--seed", NULL, P_SEED, CLI_OPT_VALUE},
    {"--threads", NULL, P_THREADS, CLI_OPT_VALUE}, {"--lsuv", NULL, P_LSUV, CLI_OPT_FLAG},
    {"--wide", NULL, P_WIDE, CLI_OPT_FLAG},        {"--json", NULL, P_JSON, CLI_OPT_FLAG},
    {"--html", NULL, P_HTML, CLI_OPT_VALUE},       {"--hist-axes", NULL, P_HIST_AXES, CLI_OPT_VALUE},
    {"--matmul", NULL, P_MATMUL, CLI_OPT_VALUE},
};

/* ---- output ------------------------------------------------------------- */

static const char *kind_name(nninit_layer_kind k) {
    static const char *n[] = {"dense", "conv2d", "flatten", "residual"};
    return (unsigned)k < 4 ? n[k] : "?";
}

/* "leaky_relu(0.5)"; the kind in front for conv and residual layers. */
static void act_label(char *b, size_t n, const nninit_probe_layer *p, int with_kind) {
    char a[40];
    if (p->act == NNINIT_ACT_LEAKY_RELU || p->act == NNINIT_ACT_ELU)
        snprintf(a, sizeof a, "%s(%g)", nninit_act_name(p->act), p->act_param);
    else snprintf(a, sizeof a, "%s", nninit_act_name(p->act));
    if (p->kind == NNINIT_LAYER_FLATTEN) snprintf(b, n, "flatten");
    else if (with_kind && p->kind == NNINIT_LAYER_CONV2D) snprintf(b, n, "conv:%s", a);
    else if (with_kind && p->kind == NNINIT_LAYER_RESIDUAL) snprintf(b, n, "res:%s", a);
    else snprintf(b, n, "%s", a);
    /* the default table's column is 15 wide: leaky_relu(0.0001) -> leaky(0.0001) */
    if (with_kind && strlen(b) > 15 && p->act == NNINIT_ACT_LEAKY_RELU) {
        char *at = strstr(b, "leaky_relu");
        if (at) memmove(at + 5, at + 10, strlen(at + 10) + 1);
    }
}

/* One JSON object: the options, the report's scalars, the mean field, a
 * record per layer and the findings. 0, or -1 with errno. */
static int print_json(FILE *f, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o,
                      const nninit_arch *a, const nninit_layer_init_info *inits) {
    cli_json j;
    cli_json_init(&j);
    cli_json_str(&j, NULL, "arch", arch);
    cli_json_str(&j, NULL, "preset", a->preset ? nninit_nn_preset_name(a->preset) : NULL);
    cli_json_int(&j, NULL, "batch", o->batch);
    cli_json_u64(&j, NULL, "seed", o->seed);
    cli_json_float(&j, NULL, "lr", o->lr);
    cli_json_int(&j, NULL, "sgd_steps", o->sgd_steps);
    cli_json_num(&j, NULL, "pair_corr", o->pair_corr);
    cli_json_str(&j, NULL, "matmul", o->matmul == NNINIT_MATMUL_REFERENCE ? "reference" : "blas");
    struct {
        const char *k;
        double v;
    } top[] = {{"loss", r->loss},
               {"loss_ref", r->loss_ref},
               {"init_seconds", r->init_seconds},
               {"seconds", r->seconds},
               {"act_factor", r->act_factor},
               {"act_rate", r->act_rate},
               {"grad_factor", r->grad_factor},
               {"grad_rate", r->grad_rate},
               {"dead_max", r->dead_max},
               {"sat_max", r->sat_max},
               {"corr_last", r->corr_last},
               {"hist_shared_lo", r->hist_shared_lo},
               {"hist_shared_hi", r->hist_shared_hi},
               {"grad_shared_lo", r->grad_shared_lo},
               {"grad_shared_hi", r->grad_shared_hi}};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) cli_json_num(&j, NULL, top[i].k, top[i].v);
    cJSON *m = cli_json_obj(&j, NULL, "mean_field");
    cli_json_bool(&j, m, "applies", r->mean_field);
    cli_json_bool(&j, m, "q_unbounded", r->q_unbounded);
    cli_json_str(&j, m, "note", r->mf_note);
    struct {
        const char *k;
        double v;
    } mf[] = {{"sw2", r->sw2},
              {"sb2", r->sb2},
              {"qstar", r->qstar},
              {"chi1", r->chi1},
              {"xi_q", r->xi_q},
              {"xi_c", r->xi_c},
              {"cstar", r->cstar},
              {"q_growth", r->q_growth},
              {"chi1_asym", r->chi1_asym},
              {"sw2_critical", r->sw2_critical}};
    for (size_t i = 0; i < sizeof mf / sizeof mf[0]; i++) cli_json_num(&j, m, mf[i].k, mf[i].v);
    cJSON *ls = cli_json_arr(&j, NULL, "layers");
    for (int l = 0; l < r->n_layers; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        cJSON *y = cli_json_obj(&j, ls, NULL);
        cli_json_int(&j, y, "layer", l + 1);
        cli_json_str(&j, y, "kind", kind_name(p->kind));
        cli_json_str(&j, y, "act", nninit_act_name(p->act));
        cli_json_num(&j, y, "act_param", p->act_param);
        cli_json_int(&j, y, "width", p->width);
        struct {
            const char *k;
            double v;
        } nums[] = {{"pre_mean", p->pre_mean},
                    {"pre_std", p->pre_std},
                    {"post_mean", p->post_mean},
                    {"post_std", p->post_std},
                    {"q_meas", p->q_meas},
                    {"q_pred", p->q_pred},
                    {"saturated", p->saturated},
                    {"dead", p->dead},
                    {"grad_std", p->grad_std},
                    {"grad_var_ratio_meas", p->grad_var_meas_ratio},
                    {"grad_var_ratio_pred", p->grad_var_pred_ratio},
                    {"wgrad_std", p->wgrad_std},
                    {"update_ratio", p->update_ratio},
                    {"corr_meas", p->corr_meas},
                    {"corr_pred", p->corr_pred},
                    {"hist_lo", p->hist_lo},
                    {"hist_hi", p->hist_hi},
                    {"grad_hist_lo", p->grad_hist_lo},
                    {"grad_hist_hi", p->grad_hist_hi}};
        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) cli_json_num(&j, y, nums[i].k, nums[i].v);
        cli_json_int(&j, y, "distinct_rows_init", p->distinct_rows_init);
        cli_json_int(&j, y, "distinct_units_init", p->distinct_units_init);
        cli_json_int(&j, y, "distinct_units_after", p->distinct_units_after);
        if (l < a->n_layers) cli_layer_init_json(&j, y, "init", &a->layers[l], &inits[l]);
        if (o->lsuv) {
            cli_json_int(&j, y, "lsuv_iters", p->lsuv_iters);
            cli_json_num(&j, y, "lsuv_var", p->lsuv_var);
        }
        const struct {
            const char *k;
            const double *h;
        } hs[] = {{"hist", p->hist},
                  {"grad_hist", p->grad_hist},
                  {"hist_shared", p->shist},
                  {"grad_hist_shared", p->grad_shist}};
        for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
            cJSON *h = cli_json_arr(&j, y, hs[i].k);
            for (int b = 0; b < o->hist_bins; b++) cli_json_num(&j, h, NULL, hs[i].h[b]);
        }
    }
    cJSON *fs = cli_json_arr(&j, NULL, "findings");
    for (int i = 0; i < r->n_findings; i++) {
        const nninit_finding *fd = &r->findings[i];
        cJSON *x = cli_json_obj(&j, fs, NULL);
        cli_json_str(&j, x, "kind", nninit_finding_name(fd->kind));
        cli_json_str(&j, x, "basis", fd->theory ? "mean field" : "measured");
        cli_json_int(&j, x, "layer", fd->layer >= 0 ? fd->layer + 1 : -1);
        cli_json_num(&j, x, "value", fd->value);
        cli_json_str(&j, x, "text", fd->text);
        cli_json_str(&j, x, "advice", fd->advice);
    }
    int rc = cli_json_print(&j, f);
    cli_json_free(&j);
    return rc;
}

/* Three significant digits in at most 7 characters: 3.52e3, -6.4e-8, 0.0849. */
static void fmt(char *b, size_t n, double v) {
    if (!isfinite(v)) {
        snprintf(b, n, "-");
        return;
    }
    double a = fabs(v);
    if (a == 0 || (a >= 1e-3 && a < 1e5)) {
        snprintf(b, n, "%.3g", v);
        if (strlen(b) <= 7) return;
    }
    int e = (int)floor(log10(a));
    /* digits so that "m e E" fits 7 characters: 3, 2 with a sign or a negative
     * exponent, 1 with a three-digit exponent */
    int d = abs(e) >= 100 ? 1 : v < 0 || e < 0 ? 2 : 3;
    double m = e < -300 ? v * 1e20 / pow(10, e + 20) : v / pow(10, e); /* pow(10, -324) is 0 */
    if (fabs(m) >= 10 - 0.5 * pow(10, 1 - d)) m /= 10, e++;
    snprintf(b, n, "%.*ge%d", d, m, e);
}

/* A count in at most 5 characters: 12544 -> 13k once it reaches limit. */
static void fmt_count(char *b, size_t n, int v, int limit) {
    if (v < limit) snprintf(b, n, "%d", v);
    else snprintf(b, n, "%dk", (int)((v + 500) / 1000));
}

static void fmt_pct(char *b, size_t n, double v) {
    if (!isfinite(v)) snprintf(b, n, "-");
    else snprintf(b, n, "%.0f", 100 * v);
}

/* Words of s from column col on, wrapped before column 100, continuation
 * lines indented by ind. */
static void put_wrapped(FILE *f, const char *s, int col, int ind) {
    while (*s) {
        const char *e = s;
        while (*e && *e != ' ') e++;
        int w = (int)(e - s);
        if (col > ind && col + 1 + w > 99) {
            fprintf(f, "\n%*s", ind, "");
            col = ind;
        } else if (col > ind) {
            fputc(' ', f);
            col++;
        }
        fwrite(s, 1, (size_t)w, f);
        col += w;
        s = *e ? e + 1 : e;
    }
    fputc('\n', f);
}

static void print_table(FILE *f, const nninit_probe_report *r, const nninit_probe_opts *o, int wide,
                        const nninit_arch *a, const nninit_layer_init_info *inits) {
    double gl = r->layers[r->n_layers - 1].grad_std;
    if (wide)
        fprintf(f, "%5s %-9s %-20s %6s %8s %8s %8s %8s %8s %8s %5s %5s %8s %8s %8s %11s %7s %7s\n", "layer", "kind",
                "act", "width", "pre mean", "pre std", "post std", "q", "q pred", "std pred", "sat%", "dead%",
                "grad std", "g pred", "dW/W", "distinct", "corr", "c pred");
    else
        fprintf(f, "%5s %-15s %5s %7s %7s %7s %7s %7s %6s %9s %6s %6s\n", "layer", "act", "width", "pre std", "q",
                "q pred", "grad std", "g pred", "stuck%", "distinct", "corr", "c pred");
    for (int l = 0; l < r->n_layers; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        char c[12][24], a[48], d[40];
        fmt(c[0], 24, p->pre_std);
        fmt(c[1], 24, p->q_meas);
        fmt(c[2], 24, p->q_pred);
        fmt(c[3], 24, p->grad_std);
        double gp = NAN;
        if (isfinite(p->grad_var_pred_ratio) && gl > 0) gp = sqrt(p->grad_var_pred_ratio) * gl;
        fmt(c[4], 24, gp);
        fmt(c[5], 24, p->corr_meas);
        fmt(c[6], 24, p->corr_pred);
        fmt(c[7], 24, p->update_ratio);
        fmt(c[8], 24, p->pre_mean);
        fmt(c[9], 24, p->post_std);
        fmt(c[10], 24, isfinite(p->q_pred) ? sqrt(p->q_pred) : NAN);
        char d0[16], d1[16], wd[16];
        fmt_count(d0, sizeof d0, p->distinct_units_init, 10000);
        fmt_count(d1, sizeof d1, p->distinct_units_after, 10000);
        fmt_count(wd, sizeof wd, p->width, 100000);
        snprintf(d, sizeof d, "%s>%s", d0, d1);
        if (wide) {
            act_label(a, sizeof a, p, 0);
            fprintf(f, "%5d %-9s %-20s %6d %8s %8s %8s %8s %8s %8s %5.1f %5.1f %8s %8s %8s %11s %7s %7s\n", l + 1,
                    kind_name(p->kind), a, p->width, c[8], c[0], c[9], c[1], c[2], c[10], 100 * p->saturated,
                    100 * p->dead, c[3], c[4], c[7], d, c[5], c[6]);
        } else {
            act_label(a, sizeof a, p, 1);
            char st[16];
            double stuck = p->act == NNINIT_ACT_TANH || p->act == NNINIT_ACT_SIGMOID ? p->saturated
                           : p->act == NNINIT_ACT_RELU                               ? p->dead
                                                                                     : NAN;
            if (l + 1 == r->n_layers) stuck = NAN;
            fmt_pct(st, sizeof st, stuck);
            fprintf(f, "%5d %-15.15s %5s %7s %7s %7s %7s %7s %6s %9s %6s %6s\n", l + 1, a, wd, c[0], c[1], c[2], c[3],
                    c[4], st, d, c[5], c[6]);
        }
    }
    fputs("\n", f);
    fputs(wide ? "columns: pre mean/pre std: of the layer's pre-activations over the batch; post std: after the\n"
                 "  activation; q: mean square of the pre-activations; q pred: the mean field's q^l; std pred: its\n"
                 "  square root; sat%: tanh |y| > 0.99 or sigmoid y outside [0.01, 0.99]; dead%: relu units zero\n"
                 "  on the whole batch; grad std: std of dL/d(pre-activation); g pred: the mean field's prediction\n"
                 "  of it, scaled to the output layer's measured value; dW/W: ||lr dW|| / ||W|| for one SGD step;\n"
                 "  distinct: distinct units at init > after --steps SGD steps; corr: correlation of two inputs'\n"
                 "  pre-activations (c0 = --corr at the input); c pred: the mean field's c^l; -: not applicable\n"
               : "columns: pre std: std of the layer's pre-activations over the batch; q: their mean square;\n"
                 "  q pred: the mean field's q^l; grad std: std of dL/d(pre-activation); g pred: the mean field's\n"
                 "  prediction of it, scaled to the output layer's measured value; stuck%: tanh/sigmoid units\n"
                 "  saturated, relu units dead on the whole batch; distinct: distinct units at init > after\n"
                 "  --steps SGD steps; corr: correlation of two inputs' pre-activations (c0 = --corr at the\n"
                 "  input); c pred: the mean field's c^l; -: not applicable. --wide: every column\n",
          f);
    char mf[640];
    nninit_probe_mean_field_text(r, mf, sizeof mf);
    put_wrapped(f, mf, fprintf(f, r->mean_field ? "\nmean field (last hidden layer):" : "\nmean field:") - 1, 2);
    if (o->lsuv) {
        fprintf(f, "LSUV iterations per layer:");
        for (int l = 0; l < r->n_layers; l++)
            if (r->layers[l].lsuv_iters || isfinite(r->layers[l].lsuv_var)) fprintf(f, " %d", r->layers[l].lsuv_iters);
        fprintf(f, "\n");
    }
    cli_arch_inits_print(f, a, inits, "init: ", wide ? 0 : 100);
    fprintf(f,
            "seed %llu, batch %d: loss at init %.6g (ln %d = %.4g)\nbuilding and initializing took %.2f s, the probe "
            "%.2f s\n\n",
            (unsigned long long)o->seed, o->batch, r->loss, r->layers[r->n_layers - 1].width, r->loss_ref,
            r->init_seconds, r->seconds);
    for (int i = 0; i < r->n_findings; i++) {
        int col =
            fprintf(f, "%s%s:", nninit_finding_name(r->findings[i].kind), r->findings[i].theory ? " (mean field)" : "");
        put_wrapped(f, r->findings[i].text, col, 4);
        fputs("  -> ", f);
        put_wrapped(f, r->findings[i].advice, 5, 5);
    }
}

/* Progress on stderr once the probe has run for 2 s. */
typedef struct {
    struct timespec t0;
    double after; /* seconds before the first line (2; NNINIT_PROBE_PROGRESS_AFTER) */
    int tty, shown;
    char last[32];
} probe_progress;

static void on_progress(void *ctx, const char *stage, int done, int total) {
    probe_progress *p = ctx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double s = (double)(t.tv_sec - p->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - p->t0.tv_nsec);
    if (s < p->after) return;
    if (p->tty) {
        fprintf(stderr, "\rnninit probe: %-10s %4d/%-4d %6.1f s", stage, done + 1, total, s);
        p->shown = 1;
    } else if (strcmp(p->last, stage)) { /* a line per stage in logs */
        fprintf(stderr, "nninit probe: %s (%d steps), %.1f s\n", stage, total, s);
    }
    snprintf(p->last, sizeof p->last, "%s", stage);
}


int cmd_probe(int argc, char **argv) {
    const char *arch_text = NULL, *arch_json = NULL, *init = NULL, *bias = NULL, *html = NULL, *preset = NULL;
    nninit_nn_preset pr = NNINIT_NN_PRESET_NONE;
    int json = 0, wide = 0, per_layer_axes = 0;
    nninit_probe_opts o = nninit_probe_opts_default();
    probe_progress pg;
    memset(&pg, 0, sizeof pg);
    clock_gettime(CLOCK_MONOTONIC, &pg.t0);
    pg.tty = isatty(2);
    pg.after = 2.0;
    const char *pa = getenv("NNINIT_PROBE_PROGRESS_AFTER");
    if (pa && cli_parse_double(pa, &pg.after)) pg.after = 2.0;
    o.progress = on_progress;
    o.progress_ctx = &pg;
    cli_opt_iter it;
    cli_opt_init(&it, "probe", probe_opts, (int)(sizeof probe_opts / sizeof probe_opts[0]), argc - 1, argv + 1);
    const char *v;
    for (int id; (id = cli_opt_next(&it, &v)) != CLI_OPT_DONE;) {
        double d;
        long long n;
        switch (id) {
        case CLI_OPT_HELP: fputs(probe_usage, stdout); return CLI_EXIT_OK;
        case CLI_OPT_ERROR: return CLI_EXIT_USAGE;
        case CLI_OPT_POSITIONAL: return bad("unexpected argument '%s' (see nninit probe --help)", v);
        case P_JSON: json = 1; break;
        case P_LSUV: o.lsuv = 1; break;
        case P_WIDE: wide = 1; break;
        case P_ARCH: arch_text = v; break;
        case P_ARCH_JSON: arch_json = v; break;
        case P_INIT: init = v; break;
        case P_BIAS: bias = v; break;
        case P_PRESET:
            if (nninit_nn_preset_parse(v, &pr)) return bad("--preset '%s': expected torch, keras or flax", v);
            preset = v;
            break;
        case P_HTML: html = v; break;
        case P_DATA: o.data_dir = v; break;
        case P_HIST_AXES:
            if (!strcmp(v, "shared")) per_layer_axes = 0;
            else if (!strcmp(v, "layer")) per_layer_axes = 1;
            else return bad("--hist-axes '%s': expected shared or layer", v);
            break;
        case P_MATMUL:
            if (!strcmp(v, "blas")) o.matmul = NNINIT_MATMUL_BLAS;
            else if (!strcmp(v, "reference")) o.matmul = NNINIT_MATMUL_REFERENCE;
            else return bad("--matmul '%s': expected blas or reference", v);
            break;
        case P_INPUT:
            if (!strcmp(v, "gaussian")) o.input = NNINIT_INPUT_GAUSSIAN;
            else if (!strcmp(v, "fashion")) o.input = NNINIT_INPUT_FASHION;
            else return bad("--input '%s': expected gaussian or fashion", v);
            break;
        case P_BATCH:
            if (cli_parse_long(v, &n) || n < 2 || n > 1 << 20)
                return bad("--batch '%s': expected an integer in 2..1048576", v);
            o.batch = (int)n;
            break;
        case P_STEPS:
            if (cli_parse_long(v, &n) || n < 0 || n > 100000)
                return bad("--steps '%s': expected an integer in 0..100000", v);
            o.sgd_steps = (int)n;
            break;
        case P_SEED:
            if (cli_parse_u64(v, &o.seed)) return bad("--seed '%s': expected an integer in 0..18446744073709551615", v);
            break;
        case P_THREADS:
            if (cli_parse_long(v, &n) || n < 1 || n > 1024)
                return bad("--threads '%s': expected an integer in 1..1024", v);
            o.threads = (int)n;
            break;
        case P_LR:
            if (cli_parse_double(v, &d) || d < 0) return bad("--lr '%s': expected a number >= 0", v);
            o.lr = (float)d;
            break;
        case P_CORR:
            if (cli_parse_double(v, &d) || d < -1 || d > 1) return bad("--corr '%s': expected a number in [-1, 1]", v);
            o.pair_corr = d;
            break;
        }
    }
    if (preset && (init || bias)) return bad("--preset %s: give --preset or --init/--bias, not both", preset);
    if (html && cli_check_output(html) != 0) { /* before the run, not after it */
        if (errno == EEXIST)
            fprintf(stderr, "nninit probe: --html '%s' exists and is not a regular file: refusing to replace it\n",
                    html);
        else fprintf(stderr, "nninit probe: --html '%s': cannot write there: %s\n", html, strerror(errno));
        return CLI_EXIT_FAIL; /* an output problem: I/O, as fill -o reports it */
    }
    nninit_arch *arch;
    nninit_layer_init li;
    const nninit_layer_init *dflt;
    int rc = cli_load_arch("probe", arch_text, arch_json, init, bias, &arch, &li, &dflt);
    if (rc) return rc;
    nninit_status st = preset ? nninit_arch_set_preset(arch, pr) : NNINIT_OK;
    if (st) {
        fprintf(stderr, "nninit probe: --preset %s: %s\n", preset, nninit_last_error());
        free(arch);
        return cli_exit_status(st);
    }
    if (o.lsuv && !init && !preset) {
        li.weight = nninit_spec_default(NNINIT_ORTHOGONAL);
        li.bias = nninit_spec_default(NNINIT_ZEROS);
        dflt = &li;
    }
    /* what every layer is filled with, for the report (the net's own resolution) */
    nninit_layer_init_info *inits = malloc((size_t)arch->n_layers * sizeof *inits);
    if (!inits) {
        fprintf(stderr, "nninit probe: out of memory\n");
        free(arch);
        return CLI_EXIT_FAIL;
    }
    st = nninit_arch_inits(arch, dflt, inits); /* the shape errors net_create would give */
    nninit_probe_report rep;
    if (st == NNINIT_OK) st = nninit_probe_run(arch, dflt, &o, &rep);
    if (pg.shown) fputs("\n", stderr);
    if (st) {
        fprintf(stderr, "nninit probe: %s\n", nninit_last_error());
        free(inits);
        free(arch);
        return cli_exit_status(st);
    }
    const char *atext = arch_text ? arch_text : arch_json;
    if (json) {
        if (print_json(stdout, &rep, atext, &o, arch, inits) != 0) {
            fprintf(stderr, "nninit probe: cannot write the JSON: %s\n", strerror(errno));
            rc = CLI_EXIT_FAIL;
        }
    } else {
        print_table(stdout, &rep, &o, wide, arch, inits);
    }
    if (html && cli_probe_html(html, &rep, atext, &o, per_layer_axes)) {
        fprintf(stderr, "nninit probe: cannot write '%s': %s\n", html, strerror(errno));
        rc = CLI_EXIT_FAIL;
    } else if (html && !json) {
        printf("wrote %s\n", html);
    }
    nninit_probe_report_free(&rep);
    free(inits);
    free(arch);
    return rc;
}
