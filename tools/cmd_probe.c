/* cmd_probe.c -- `nninit probe`: a network at init, layer by layer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/common.h"
#include "nninit_probe.h"

int cmd_probe(int argc, char **argv);

static const char probe_usage[] =
    "usage: nninit probe --arch \"784 -> [dense 256 tanh] x20 -> dense 10\" [options]\n"
    "\n"
    "Runs a batch through the network at init and reports, per layer, activation and\n"
    "gradient statistics, saturation, dead and symmetric units, and the correlation of\n"
    "two inputs by depth, next to mean-field theory; then what to change.\n"
    "\n"
    "  --arch TEXT         architecture (docs/ARCH.md)\n"
    "  --arch-json FILE    architecture as JSON\n"
    "  --init SCHEME       weight init of layers without their own, e.g. xavier_normal,\n"
    "                      'kaiming_normal(nonlinearity=relu)', 'normal(std=0.01)', zeros\n"
    "                      (default: PyTorch's nn.Linear default)\n"
    "  --bias SCHEME       bias init (default zeros when --init is given)\n"
    "  --input KIND        gaussian (default) or fashion (Fashion-MNIST, Debian's\n"
    "                      dataset-fashion-mnist)\n"
    "  --data DIR          Fashion-MNIST directory\n"
    "  --batch N           batch size (256)\n"
    "  --lr X              SGD step for the update ratio and the symmetry check (0.1)\n"
    "  --steps K           SGD steps before counting distinct units again (10)\n"
    "  --corr C            correlation of the two probe inputs (0)\n"
    "  --seed N            seed of weights and inputs (0)\n"
    "  --lsuv              LSUV (orthogonal pre-init, unit variance per layer) first\n"
    "  --json              one JSON object on stdout\n"
    "  --html FILE         a self-contained HTML report (inline SVG)\n";

static int bad(const char *fmt, const char *a) { return cli_bad("probe", fmt, a); }

/* ---- output ------------------------------------------------------------- */

static const char *finding_name(nninit_finding_kind k) {
    static const char *n[] = {"healthy", "vanishing", "exploding", "saturated", "dead", "symmetric"};
    return (unsigned)k < 6 ? n[k] : "unknown";
}

static const char *kind_name(nninit_layer_kind k) {
    static const char *n[] = {"dense", "conv2d", "flatten", "residual"};
    return (unsigned)k < 4 ? n[k] : "?";
}

static void print_json(FILE *f, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o) {
    fprintf(f, "{\"arch\": ");
    cli_json_str(f, arch);
    fprintf(f, ", \"batch\": %d, \"seed\": %llu, \"lr\": %g, \"sgd_steps\": %d, \"loss\": ", o->batch,
            (unsigned long long)o->seed, (double)o->lr, o->sgd_steps);
    cli_json_num(f, r->loss);
    fprintf(f, ", \"init_seconds\": ");
    cli_json_num(f, r->init_seconds);
    fprintf(f, ", \"seconds\": ");
    cli_json_num(f, r->seconds);
    fprintf(f, ", \"mean_field\": {\"applies\": %s, \"sw2\": ", r->mean_field ? "true" : "false");
    cli_json_num(f, r->sw2);
    fprintf(f, ", \"sb2\": ");
    cli_json_num(f, r->sb2);
    fprintf(f, ", \"qstar\": ");
    cli_json_num(f, r->qstar);
    fprintf(f, ", \"chi1\": ");
    cli_json_num(f, r->chi1);
    fprintf(f, ", \"xi_q\": ");
    cli_json_num(f, r->xi_q);
    fprintf(f, ", \"xi_c\": ");
    cli_json_num(f, r->xi_c);
    fprintf(f, "}, \"layers\": [");
    for (int l = 0; l < r->n_layers; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        fprintf(f, "%s\n  {\"layer\": %d, \"kind\": \"%s\", \"act\": \"%s\", \"width\": %d", l ? "," : "", l + 1,
                kind_name(p->kind), nninit_act_name(p->act), p->width);
        struct { const char *k; double v; } nums[] = {
            {"pre_mean", p->pre_mean}, {"pre_std", p->pre_std}, {"post_mean", p->post_mean},
            {"post_std", p->post_std}, {"q_meas", p->q_meas}, {"q_pred", p->q_pred},
            {"saturated", p->saturated}, {"dead", p->dead}, {"grad_std", p->grad_std},
            {"grad_var_ratio_meas", p->grad_var_meas_ratio}, {"grad_var_ratio_pred", p->grad_var_pred_ratio},
            {"wgrad_std", p->wgrad_std}, {"update_ratio", p->update_ratio}, {"corr_meas", p->corr_meas},
            {"corr_pred", p->corr_pred}, {"hist_lo", p->hist_lo}, {"hist_hi", p->hist_hi},
            {"grad_hist_lo", p->grad_hist_lo}, {"grad_hist_hi", p->grad_hist_hi}};
        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
            fprintf(f, ", \"%s\": ", nums[i].k);
            cli_json_num(f, nums[i].v);
        }
        fprintf(f, ", \"distinct_rows_init\": %d, \"distinct_units_init\": %d, \"distinct_units_after\": %d",
                p->distinct_rows_init, p->distinct_units_init, p->distinct_units_after);
        if (o->lsuv) {
            fprintf(f, ", \"lsuv_iters\": %d, \"lsuv_var\": ", p->lsuv_iters);
            cli_json_num(f, p->lsuv_var);
        }
        fprintf(f, ", \"hist\": [");
        for (int b = 0; b < o->hist_bins; b++) fprintf(f, "%s%.5g", b ? "," : "", p->hist[b]);
        fprintf(f, "], \"grad_hist\": [");
        for (int b = 0; b < o->hist_bins; b++) fprintf(f, "%s%.5g", b ? "," : "", p->grad_hist[b]);
        fprintf(f, "]}");
    }
    fprintf(f, "\n], \"findings\": [");
    for (int i = 0; i < r->n_findings; i++) {
        const nninit_finding *fd = &r->findings[i];
        fprintf(f, "%s\n  {\"kind\": \"%s\", \"layer\": %d, \"value\": ", i ? "," : "", finding_name(fd->kind),
                fd->layer >= 0 ? fd->layer + 1 : -1);
        cli_json_num(f, fd->value);
        fprintf(f, ", \"text\": ");
        cli_json_str(f, fd->text);
        fprintf(f, ", \"advice\": ");
        cli_json_str(f, fd->advice);
        fprintf(f, "}");
    }
    fprintf(f, "\n]}\n");
}

static void fmt(char *b, size_t n, double v) {
    if (!isfinite(v)) snprintf(b, n, "-");
    else snprintf(b, n, "%.3g", v);
}

static void print_table(FILE *f, const nninit_probe_report *r, const nninit_probe_opts *o) {
    fprintf(f, "%5s %-9s %-10s %6s %9s %9s %9s %9s %5s %5s %9s %9s %9s %11s %7s %7s\n", "layer", "kind", "act",
            "width", "pre std", "post std", "q", "q pred", "sat%", "dead%", "grad std", "grad pred", "dW/W",
            "distinct", "corr", "c pred");
    for (int l = 0; l < r->n_layers; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        char c[10][16];
        fmt(c[0], 16, p->pre_std);
        fmt(c[1], 16, p->post_std);
        fmt(c[2], 16, p->q_meas);
        fmt(c[3], 16, p->q_pred);
        fmt(c[4], 16, p->grad_std);
        double gp = NAN;
        if (isfinite(p->grad_var_pred_ratio) && r->layers[r->n_layers - 1].grad_std > 0)
            gp = sqrt(p->grad_var_pred_ratio) * r->layers[r->n_layers - 1].grad_std;
        fmt(c[5], 16, gp);
        fmt(c[6], 16, p->update_ratio);
        fmt(c[7], 16, p->corr_meas);
        fmt(c[8], 16, p->corr_pred);
        char d[24];
        snprintf(d, sizeof d, "%d->%d", p->distinct_units_init, p->distinct_units_after);
        fprintf(f, "%5d %-9s %-10s %6d %9s %9s %9s %9s %5.1f %5.1f %9s %9s %9s %11s %7s %7s\n", l + 1,
                kind_name(p->kind), nninit_act_name(p->act), p->width, c[0], c[1], c[2], c[3], 100 * p->saturated,
                100 * p->dead, c[4], c[5], c[6], d, c[7], c[8]);
    }
    if (r->mean_field)
        fprintf(f, "\nmean field: sigma_w^2 %.4g, sigma_b^2 %.4g, q* %.4g, chi_1 %.4g, xi_q %.3g, xi_c %.3g\n", r->sw2,
                r->sb2, r->qstar, r->chi1, r->xi_q, r->xi_c);
    else
        fprintf(f, "\nmean field: not applicable (it covers plain dense MLPs with zero-mean weights)\n");
    if (o->lsuv) {
        fprintf(f, "LSUV iterations per layer:");
        for (int l = 0; l < r->n_layers; l++)
            if (r->layers[l].lsuv_iters || isfinite(r->layers[l].lsuv_var)) fprintf(f, " %d", r->layers[l].lsuv_iters);
        fprintf(f, "\n");
    }
    fprintf(f, "loss at init %.4f; building and initializing took %.2f s, the probe %.2f s\n\n", r->loss,
            r->init_seconds, r->seconds);
    for (int i = 0; i < r->n_findings; i++)
        fprintf(f, "%s: %s\n  -> %s\n", finding_name(r->findings[i].kind), r->findings[i].text, r->findings[i].advice);
}

int nninit__probe_html(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o);

int cmd_probe(int argc, char **argv) {
    const char *arch_text = NULL, *arch_json = NULL, *init = NULL, *bias = NULL, *html = NULL;
    int json = 0;
    nninit_probe_opts o = nninit_probe_opts_default();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        long long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(probe_usage, stdout); return 0; }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!strcmp(a, "--lsuv")) { o.lsuv = 1; continue; }
        if (!v) return bad("option '%s' needs a value (see nninit probe --help)", a);
        i++;
        if (!strcmp(a, "--arch")) arch_text = v;
        else if (!strcmp(a, "--arch-json")) arch_json = v;
        else if (!strcmp(a, "--init")) init = v;
        else if (!strcmp(a, "--bias")) bias = v;
        else if (!strcmp(a, "--html")) html = v;
        else if (!strcmp(a, "--data")) o.data_dir = v;
        else if (!strcmp(a, "--input")) {
            if (!strcmp(v, "gaussian")) o.input = NNINIT_INPUT_GAUSSIAN;
            else if (!strcmp(v, "fashion")) o.input = NNINIT_INPUT_FASHION;
            else return bad("--input '%s': expected gaussian or fashion", v);
        } else if (!strcmp(a, "--batch")) {
            if (cli_parse_long(v, &n) || n < 2 || n > 1 << 20) return bad("--batch '%s': expected an integer in 2..1048576", v);
            o.batch = (int)n;
        } else if (!strcmp(a, "--steps")) {
            if (cli_parse_long(v, &n) || n < 0 || n > 100000) return bad("--steps '%s': expected an integer in 0..100000", v);
            o.sgd_steps = (int)n;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_long(v, &n) || n < 0) return bad("--seed '%s': expected a non-negative integer", v);
            o.seed = (uint64_t)n;
        } else if (!strcmp(a, "--lr")) {
            if (cli_parse_double(v, &d) || d < 0) return bad("--lr '%s': expected a number >= 0", v);
            o.lr = (float)d;
        } else if (!strcmp(a, "--corr")) {
            if (cli_parse_double(v, &d) || d < -1 || d > 1) return bad("--corr '%s': expected a number in [-1, 1]", v);
            o.pair_corr = d;
        } else return bad("unknown option '%s' (see nninit probe --help)", a);
    }
    nninit_arch *arch;
    nninit_layer_init li;
    const nninit_layer_init *dflt;
    int rc = cli_load_arch("probe", arch_text, arch_json, init, bias, &arch, &li, &dflt);
    if (rc) return rc;
    if (o.lsuv && !init) {
        li.weight = nninit_spec_default(NNINIT_ORTHOGONAL);
        li.bias = nninit_spec_default(NNINIT_ZEROS);
        dflt = &li;
    }
    nninit_probe_report rep;
    nninit_status st = nninit_probe_run(arch, dflt, &o, &rep);
    free(arch);
    if (st) {
        fprintf(stderr, "nninit probe: %s\n", nninit_last_error());
        return st == NNINIT_ERR_NOMEM || st == NNINIT_ERR_IO || st == NNINIT_ERR_LAPACK ? 1 : 2;
    }
    const char *atext = arch_text ? arch_text : arch_json;
    if (json) print_json(stdout, &rep, atext, &o);
    else print_table(stdout, &rep, &o);
    if (html && nninit__probe_html(html, &rep, atext, &o)) {
        fprintf(stderr, "nninit probe: cannot write '%s'\n", html);
        rc = 1;
    } else if (html && !json) {
        printf("wrote %s\n", html);
    }
    nninit_probe_report_free(&rep);
    return rc;
}
