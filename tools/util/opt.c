/* opt.c -- the table-driven option parser of the subcommands (opt.h has the
 * contract). */
#include "opt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

enum {
    ST_RUN,
    ST_DONE,
    ST_HELP,
    ST_ERROR
};

static int is_help(const char *a) { return !strcmp(a, "-h") || !strcmp(a, "--help"); }

void cli_opt_init(cli_opt_iter *it, const char *cmd, const cli_opt *table, int n, int argc, char *const *argv) {
    memset(it, 0, sizeof *it);
    it->cmd = cmd;
    it->table = table;
    it->n = n;
    it->argc = argc;
    it->argv = argv;
    it->state = ST_RUN;
    /* Help anywhere before "--" wins over everything else on the line. */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (is_help(argv[i])) {
            it->state = ST_HELP;
            break;
        }
    }
}

static void vsay(const cli_opt_iter *it, const char *fmt, va_list ap) {
    fprintf(stderr, "nninit %s: ", it->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

NNINIT_PRINTF(2, 3)
static int fail(cli_opt_iter *it, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(it, fmt, ap);
    va_end(ap);
    it->state = ST_ERROR;
    return CLI_OPT_ERROR;
}

static int same(const char *name, const char *arg, size_t len) {
    return name && strlen(name) == len && !strncmp(name, arg, len);
}

int cli_opt_next(cli_opt_iter *it, const char **value) {
    *value = NULL;
    switch (it->state) {
    case ST_DONE: return CLI_OPT_DONE;
    case ST_HELP: return CLI_OPT_HELP;
    case ST_ERROR: return CLI_OPT_ERROR;
    default: break;
    }
    if (it->n > CLI_OPT_MAX) return fail(it, "internal error: %d options, more than %d", it->n, CLI_OPT_MAX);
    for (;;) {
        if (it->i >= it->argc) {
            it->state = ST_DONE;
            return CLI_OPT_DONE;
        }
        const char *arg = it->argv[it->i++];
        if (it->only_positional || arg[0] != '-' || !strcmp(arg, "-")) {
            *value = arg;
            return CLI_OPT_POSITIONAL;
        }
        if (!strcmp(arg, "--")) {
            it->only_positional = 1;
            continue;
        }
        /* Reached only after a "--" that was an option's value
         * ("--key -- --help"): still help. */
        if (is_help(arg)) {
            it->state = ST_HELP;
            return CLI_OPT_HELP;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        int k = 0;
        while (k < it->n && !same(it->table[k].name, arg, len) && !same(it->table[k].alias, arg, len)) k++;
        if (k == it->n) return fail(it, "unknown option '%.*s' (see 'nninit help %s')", (int)len, arg, it->cmd);
        const cli_opt *o = &it->table[k];
        if (it->seen[k] && !(o->kind & CLI_OPT_MULTI)) return fail(it, "option %s given twice", o->name);
        it->seen[k] = 1;
        if (o->kind & CLI_OPT_VALUE) {
            if (eq) *value = eq + 1;
            else if (it->i < it->argc) *value = it->argv[it->i++];
            else return fail(it, "option %s needs a value", o->name);
        } else if (eq) {
            return fail(it, "option %s takes no value", o->name);
        }
        it->last = o;
        return o->id;
    }
}

const char *cli_opt_name(const cli_opt_iter *it) { return it->last ? it->last->name : NULL; }

int cli_opt_error(const cli_opt_iter *it, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(it, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}
