/* opt.h -- the one command-line option parser of every nninit subcommand.
 *
 * A command describes its options in a table and pulls them one at a time:
 *
 *     enum { O_SHAPE, O_SEED, O_OUTPUT, O_JSON };
 *     static const cli_opt OPTS[] = {
 *         {"--shape", NULL, O_SHAPE, CLI_OPT_VALUE},
 *         {"--seed", NULL, O_SEED, CLI_OPT_VALUE},
 *         {"--output", "-o", O_OUTPUT, CLI_OPT_VALUE},
 *         {"--json", NULL, O_JSON, CLI_OPT_FLAG},
 *     };
 *     cli_opt_iter it;
 *     cli_opt_init(&it, "fill", OPTS, sizeof OPTS / sizeof OPTS[0], argc - 1, argv + 1);
 *     const char *v;
 *     int r;
 *     while ((r = cli_opt_next(&it, &v)) != CLI_OPT_DONE) {
 *         switch (r) {
 *         case CLI_OPT_HELP: fputs(usage, stdout); return CLI_EXIT_OK;
 *         case CLI_OPT_ERROR: return CLI_EXIT_USAGE;      (already printed)
 *         case CLI_OPT_POSITIONAL: ... v is the argument ...
 *         case O_SEED: if (cli_parse_u64(v, &seed))
 *                          return cli_opt_error(&it, "--seed '%s': ...", v);
 *         ...
 *         }
 *     }
 *
 * The contract:
 *
 *   argv[0..argc-1] are the arguments to parse, without the program or
 *   command name (a command called with argv[0] = "probe" passes argc - 1,
 *   argv + 1). Nothing is copied: values point into argv.
 *
 *   Options. An argument that starts with '-' and is not "-" or "--" is an
 *   option, looked up by its whole spelling before any '=': the table entry
 *   whose name ("--output") or alias ("-o") it is. A CLI_OPT_VALUE option
 *   takes its value from "--opt=value" or "--opt value" (also "-o value",
 *   "-o=value"); in the second form the next argument is the value whatever it
 *   is, so "--a -0.5" works, and an option last on the line without its value
 *   is an error. A CLI_OPT_FLAG option given as "--flag=value" is an error.
 *   Options and positionals may come in any order. No bundling (-ab), no
 *   attached short values (-oFILE), no unambiguous-prefix matching.
 *
 *   "--" ends the options: every later argument is positional. "-" alone is
 *   positional (stdin, by convention).
 *
 *   Help. An argument spelled exactly "-h" or "--help" anywhere before the
 *   first "--" means help: the first cli_opt_next() returns CLI_OPT_HELP
 *   before anything else is looked at, so help wins over every error on the
 *   line, and a value can only be spelled "--help" as "--opt=--help". The
 *   tables hold no entry for help.
 *
 *   Repeats. An option given twice (under its name or alias, either counts)
 *   is an error, "option --seed given twice", unless its entry has
 *   CLI_OPT_MULTI, in which case every occurrence is returned in order and
 *   the command decides (append, or last wins). Positionals are always all
 *   returned; how many there may be is the command's business.
 *
 *   Errors are printed to stderr, one line, "nninit CMD: ...", and
 *   cli_opt_next() returns CLI_OPT_ERROR; the command returns CLI_EXIT_USAGE
 *   (2, common.h). The messages:
 *       nninit CMD: unknown option '--x' (see 'nninit help CMD')
 *       nninit CMD: option --shape needs a value
 *       nninit CMD: option --json takes no value
 *       nninit CMD: option --seed given twice
 *   After CLI_OPT_DONE, CLI_OPT_HELP or CLI_OPT_ERROR every later call
 *   returns the same code again.
 *
 * Table rules: ids are the caller's, >= 0 (two entries may share one);
 * names start with "--", aliases with '-' (or are NULL); at most CLI_OPT_MAX
 * entries. Public headers only; the parser never exits and never allocates.
 */
#ifndef NNINIT_TOOLS_OPT_H
#define NNINIT_TOOLS_OPT_H

#include "nninit.h" /* NNINIT_PRINTF */

/* cli_opt.kind: a flag, or an option with a value; | CLI_OPT_MULTI to allow
 * it more than once. */
enum {
    CLI_OPT_FLAG = 0,
    CLI_OPT_VALUE = 1,
    CLI_OPT_MULTI = 2
};

typedef struct {
    const char *name;  /* "--output" */
    const char *alias; /* "-o", or NULL */
    int id;            /* returned by cli_opt_next(), >= 0 */
    int kind;          /* CLI_OPT_FLAG or CLI_OPT_VALUE, | CLI_OPT_MULTI */
} cli_opt;

/* What cli_opt_next() returns when it is not an option's id. */
enum {
    CLI_OPT_DONE = -1,       /* no more arguments */
    CLI_OPT_POSITIONAL = -2, /* *value is a positional argument */
    CLI_OPT_HELP = -3,       /* -h or --help was given: print help, exit 0 */
    CLI_OPT_ERROR = -4       /* a message was printed: exit CLI_EXIT_USAGE */
};

#define CLI_OPT_MAX 64 /* entries in one table, at most */

/* The iterator's state; read only through the functions below. */
typedef struct {
    const char *cmd;
    const cli_opt *table;
    int n, argc, i;
    char *const *argv;
    int only_positional, state;
    const cli_opt *last; /* entry of the last option returned */
    unsigned char seen[CLI_OPT_MAX];
} cli_opt_iter;

/* Starts parsing argv[0..argc-1] for command cmd ("fill": used in the
 * messages) against table[0..n-1]. cmd, table and argv must outlive it.
 * A table of more than CLI_OPT_MAX entries makes the first cli_opt_next()
 * print an error and return CLI_OPT_ERROR (a bug in the caller). */
void cli_opt_init(cli_opt_iter *it, const char *cmd, const cli_opt *table, int n, int argc, char *const *argv);

/* The next argument: an option's id (>= 0) with *value its value (NULL for a
 * flag), CLI_OPT_POSITIONAL with *value the argument, CLI_OPT_HELP,
 * CLI_OPT_DONE, or CLI_OPT_ERROR after printing why. *value is set to NULL
 * when there is none. */
int cli_opt_next(cli_opt_iter *it, const char **value);

/* The table name ("--output", even when "-o" was typed) of the option
 * cli_opt_next() last returned, for messages; NULL before the first. */
const char *cli_opt_name(const cli_opt_iter *it);

/* Prints "nninit CMD: " and the formatted message to stderr, one line;
 * returns CLI_EXIT_USAGE (2), for "return cli_opt_error(&it, ...)". */
NNINIT_PRINTF(2, 3)
int cli_opt_error(const cli_opt_iter *it, const char *fmt, ...);

#endif
