/* test_opt.c -- the subcommands' option parser (tools/util/opt.h): every rule
 * of its contract, and every error with its exact message. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "opt.h"

enum {
    O_SHAPE,
    O_SEED,
    O_OUT,
    O_JSON,
    O_TAG
};

static const cli_opt OPTS[] = {
    {"--shape", NULL, O_SHAPE, CLI_OPT_VALUE},
    {"--seed", NULL, O_SEED, CLI_OPT_VALUE},
    {"--output", "-o", O_OUT, CLI_OPT_VALUE},
    {"--json", NULL, O_JSON, CLI_OPT_FLAG},
    {"--tag", NULL, O_TAG, CLI_OPT_VALUE | CLI_OPT_MULTI},
};
#define N_OPTS ((int)(sizeof OPTS / sizeof OPTS[0]))

/* Runs the parser over argv (NULL-terminated) and writes what it returned,
 * one token each ("shape=4", "pos=x", "json", "help", "error", "done"), into
 * out; stderr's text into err. */
static void parse(const char **args, char *out, size_t cap, char *err, size_t ecap) {
    int argc = 0;
    while (args[argc]) argc++;
    static const char *names[] = {"shape", "seed", "out", "json", "tag"};
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(tmp), 2);

    cli_opt_iter it;
    cli_opt_init(&it, "fill", OPTS, N_OPTS, argc, (char *const *)args);
    out[0] = '\0';
    for (;;) {
        const char *v = "unset";
        int r = cli_opt_next(&it, &v);
        char tok[128];
        if (r >= 0) {
            assert_string_equal(cli_opt_name(&it), OPTS[r].name);
            if (v) snprintf(tok, sizeof tok, "%s=%s ", names[r], v);
            else snprintf(tok, sizeof tok, "%s ", names[r]);
        } else if (r == CLI_OPT_POSITIONAL) {
            snprintf(tok, sizeof tok, "pos=%s ", v);
        } else {
            assert_null(v);
            snprintf(tok, sizeof tok, "%s", r == CLI_OPT_DONE ? "done" : r == CLI_OPT_HELP ? "help" : "error");
        }
        strncat(out, tok, cap - strlen(out) - 1);
        if (r == CLI_OPT_DONE || r == CLI_OPT_HELP || r == CLI_OPT_ERROR) {
            /* sticky */
            assert_int_equal(cli_opt_next(&it, &v), r);
            break;
        }
    }

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(err, 1, ecap - 1, tmp);
    err[n] = '\0';
    fclose(tmp);
}

#define EXPECT(want, want_err, ...)                                                                                    \
    do {                                                                                                               \
        const char *args_[] = {__VA_ARGS__, NULL};                                                                     \
        char out_[512], err_[512];                                                                                     \
        parse(args_, out_, sizeof out_, err_, sizeof err_);                                                            \
        assert_string_equal(out_, want);                                                                               \
        assert_string_equal(err_, want_err);                                                                           \
    } while (0)

static void test_values_both_forms(void **state) {
    (void)state;
    EXPECT("shape=4,4 seed=7 done", "", "--shape=4,4", "--seed", "7");
    /* The next argument is the value whatever it is: negative numbers, "-", "". */
    EXPECT("seed=-1 out=- shape= done", "", "--seed", "-1", "-o", "-", "--shape", "");
    EXPECT("out=a=b done", "", "--output=a=b");
    EXPECT("out=x.npy done", "", "-o=x.npy");
    EXPECT("json done", "", "--json");
    EXPECT("done", "", "--");
}

static void test_positionals(void **state) {
    (void)state;
    EXPECT("pos=normal shape=4 pos=- pos=x done", "", "normal", "--shape", "4", "-", "x");
    /* "--" ends the options; later "--" and "--help" are positional. */
    EXPECT("pos=a json pos=--shape pos=-- pos=--help pos=-h done", "", "a", "--json", "--", "--shape", "--", "--help",
           "-h");
}

static void test_help_anywhere(void **state) {
    (void)state;
    EXPECT("help", "", "--help");
    EXPECT("help", "", "-h");
    /* before everything else, errors included */
    EXPECT("help", "", "--bogus", "--shape", "--help");
    EXPECT("help", "", "--json=1", "x", "-h", "--");
    /* "--opt=--help" is a value */
    EXPECT("out=--help done", "", "--output=--help");
    /* after a "--" that was a value, --help still means help */
    EXPECT("out=-- help", "", "-o", "--", "--help");
}

static void test_errors(void **state) {
    (void)state;
    EXPECT("error", "nninit fill: unknown option '--bogus' (see 'nninit help fill')\n", "--bogus");
    EXPECT("shape=4 error", "nninit fill: unknown option '--x' (see 'nninit help fill')\n", "--shape", "4", "--x=5");
    EXPECT("error", "nninit fill: unknown option '-5' (see 'nninit help fill')\n", "-5");
    /* no prefix matching */
    EXPECT("error", "nninit fill: unknown option '--sha' (see 'nninit help fill')\n", "--sha", "4");
    EXPECT("error", "nninit fill: option --shape needs a value\n", "--shape");
    EXPECT("pos=a error", "nninit fill: option --output needs a value\n", "a", "-o");
    EXPECT("error", "nninit fill: option --json takes no value\n", "--json=1");
    EXPECT("error", "nninit fill: option --json takes no value\n", "--json=");
}

static void test_repeats(void **state) {
    (void)state;
    EXPECT("seed=1 error", "nninit fill: option --seed given twice\n", "--seed", "1", "--seed=2");
    /* name and alias are one option */
    EXPECT("out=a error", "nninit fill: option --output given twice\n", "-o", "a", "--output", "b");
    EXPECT("json error", "nninit fill: option --json given twice\n", "--json", "--json");
    /* CLI_OPT_MULTI: every occurrence, in order */
    EXPECT("tag=a tag=b tag=c done", "", "--tag", "a", "--tag=b", "--tag", "c");
}

static void test_error_helper_and_table_limit(void **state) {
    (void)state;
    cli_opt_iter it;
    char *argv[] = {NULL};
    cli_opt_init(&it, "probe", OPTS, N_OPTS, 0, argv);
    assert_null(cli_opt_name(&it));
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int r = cli_opt_error(&it, "--batch '%s': expected %d..%d", "x", 2, 9);
    static cli_opt big[CLI_OPT_MAX + 1];
    cli_opt_iter it2;
    cli_opt_init(&it2, "probe", big, CLI_OPT_MAX + 1, 0, argv);
    const char *v;
    int r2 = cli_opt_next(&it2, &v);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char err[256];
    rewind(tmp);
    err[fread(err, 1, sizeof err - 1, tmp)] = '\0';
    fclose(tmp);
    assert_int_equal(r, CLI_EXIT_USAGE);
    assert_int_equal(r2, CLI_OPT_ERROR);
    assert_string_equal(err, "nninit probe: --batch 'x': expected 2..9\n"
                             "nninit probe: internal error: 65 options, more than 64\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_both_forms), cmocka_unit_test(test_positionals),
        cmocka_unit_test(test_help_anywhere),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_repeats),           cmocka_unit_test(test_error_helper_and_table_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
