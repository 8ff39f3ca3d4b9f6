/* json.h -- the one JSON writer of the tools (every --json and the lab's
 * results.json), a thin layer over cJSON (Debian's libcjson).
 *
 * Build a document, print or write it, free it:
 *
 *     cli_json j;
 *     cli_json_init(&j);                       // root: an empty object
 *     cli_json_str(&j, NULL, "arch", text);    // parent NULL: the root
 *     cli_json_u64(&j, NULL, "seed", seed);
 *     cJSON *ls = cli_json_arr(&j, NULL, "layers");
 *     for (...) {
 *         cJSON *o = cli_json_obj(&j, ls, NULL);   // key NULL: append to an array
 *         cli_json_num(&j, o, "std", std);
 *     }
 *     int rc = cli_json_print(&j, stdout);     // or cli_json_write(&j, path)
 *     cli_json_free(&j);
 *
 * No call needs checking on the way: the first failure (out of memory, a
 * NULL parent left by an earlier failure) sets j.failed, later calls do
 * nothing, and cli_json_print / cli_json_write then fail with ENOMEM.
 *
 * Values:
 *   numbers   finite doubles in the fewest significant digits (1..17) that
 *             read back as the same double (0.1 -> 0.1, 1/3 -> 16 digits,
 *             -0.0 -> -0, 1e-320 -> 1e-320); NaN and +-inf -> null (JSON
 *             has neither).
 *   integers  cli_json_int / cli_json_u64 print every digit (2^63 - 1, a
 *             64-bit seed): no trip through double. A reader that parses
 *             numbers as doubles rounds beyond 2^53; the text is exact.
 *   strings   escaped by cJSON: quote, backslash, control characters as
 *             \n, \t, ... or \u00XX; NULL -> null. Bytes >= 0x80 pass
 *             through as they are (UTF-8 is the caller's).
 * Output is pretty-printed (cJSON_Print: one key per line, tab-indented;
 * arrays of numbers on one line) and ends with a newline.
 */
#ifndef NNINIT_TOOLS_JSON_H
#define NNINIT_TOOLS_JSON_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

typedef struct {
    cJSON *root; /* the document: an object */
    int failed;  /* nonzero after the first failure; sticks */
} cli_json;

/* Starts a document whose root is an empty object. 0, or -1 (out of memory:
 * failed is set, and every later call is a no-op). */
int cli_json_init(cli_json *j);

/* Each adder puts a value under key in the object parent, or appends it to
 * the array parent when key is NULL; parent NULL means the root. The
 * container adders return the new object / array (NULL on failure, which
 * the next adder absorbs). */
cJSON *cli_json_obj(cli_json *j, cJSON *parent, const char *key);
cJSON *cli_json_arr(cli_json *j, cJSON *parent, const char *key);
void cli_json_num(cli_json *j, cJSON *parent, const char *key, double v);
/* A float in the fewest digits that read back as the same float (0.1f ->
 * 0.1, not its double 0.10000000149011612). */
void cli_json_float(cli_json *j, cJSON *parent, const char *key, float v);
void cli_json_int(cli_json *j, cJSON *parent, const char *key, int64_t v);
void cli_json_u64(cli_json *j, cJSON *parent, const char *key, uint64_t v);
void cli_json_str(cli_json *j, cJSON *parent, const char *key, const char *s);
void cli_json_bool(cli_json *j, cJSON *parent, const char *key, int b);
void cli_json_null(cli_json *j, cJSON *parent, const char *key);

/* The shortest "%.*g" text of a finite v that strtod reads back as v, into
 * buf (32 bytes are always enough); "null" for NaN and inf. Returns buf. */
char *cli_json_fmt_num(char buf[32], double v);

/* The document as text with a trailing newline, malloc'ed (free()); NULL
 * with errno ENOMEM after a failure. */
char *cli_json_text(cli_json *j);

/* Prints the document to f. 0, or -1 with errno (ENOMEM after a failure,
 * or the stream's write error). Does not close f. */
int cli_json_print(cli_json *j, FILE *f);

/* Writes the document to path through the tools' atomic writer (common.h:
 * a hidden temporary sibling, fsync, rename). 0, or -1 with errno (EEXIST:
 * path exists and is not a regular file). */
int cli_json_write(cli_json *j, const char *path);

/* Frees the document; the struct may be initialised again. Safe twice. */
void cli_json_free(cli_json *j);

#endif
