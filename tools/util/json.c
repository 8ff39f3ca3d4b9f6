/* json.c -- the tools' JSON writer over cJSON (json.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"

int cli_json_init(cli_json *j) {
    j->root = cJSON_CreateObject();
    j->failed = !j->root;
    return j->failed ? -1 : 0;
}

/* Hangs item under parent (the root when NULL): by key in an object, at the
 * end of an array when key is NULL. Takes item in every case. */
static cJSON *put(cli_json *j, cJSON *parent, const char *key, cJSON *item) {
    if (!parent) parent = j->root;
    int fits = parent && (key ? cJSON_IsObject(parent) : cJSON_IsArray(parent));
    if (j->failed || !item || !fits ||
        !(key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item))) {
        cJSON_Delete(item);
        j->failed = 1;
        return NULL;
    }
    return item;
}

/* A parent the caller got from a failed adder is NULL, which put() would
 * take for the root: an adder given NULL after a failure must not attach. */
static int dead(const cli_json *j) { return j->failed; }

cJSON *cli_json_obj(cli_json *j, cJSON *parent, const char *key) {
    return dead(j) ? NULL : put(j, parent, key, cJSON_CreateObject());
}

cJSON *cli_json_arr(cli_json *j, cJSON *parent, const char *key) {
    return dead(j) ? NULL : put(j, parent, key, cJSON_CreateArray());
}

char *cli_json_fmt_num(char buf[32], double v) {
    if (!isfinite(v)) {
        strcpy(buf, "null");
        return buf;
    }
    /* %.17g always reads back; fewer digits usually do and read better
     * (0.1, not 0.10000000000000001). %g keeps the sign of -0.0. */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

void cli_json_num(cli_json *j, cJSON *parent, const char *key, double v) {
    if (dead(j)) return;
    char t[32];
    put(j, parent, key, isfinite(v) ? cJSON_CreateRaw(cli_json_fmt_num(t, v)) : cJSON_CreateNull());
}

void cli_json_float(cli_json *j, cJSON *parent, const char *key, float v) {
    if (dead(j)) return;
    if (!isfinite(v)) {
        put(j, parent, key, cJSON_CreateNull());
        return;
    }
    char t[32];
    for (int prec = 1; prec <= 9; prec++) { /* 9 digits always read back */
        snprintf(t, sizeof t, "%.*g", prec, (double)v);
        if (strtof(t, NULL) == v) break;
    }
    put(j, parent, key, cJSON_CreateRaw(t));
}

void cli_json_int(cli_json *j, cJSON *parent, const char *key, int64_t v) {
    if (dead(j)) return;
    char t[24];
    snprintf(t, sizeof t, "%" PRId64, v);
    put(j, parent, key, cJSON_CreateRaw(t));
}

void cli_json_u64(cli_json *j, cJSON *parent, const char *key, uint64_t v) {
    if (dead(j)) return;
    char t[24];
    snprintf(t, sizeof t, "%" PRIu64, v);
    put(j, parent, key, cJSON_CreateRaw(t));
}

void cli_json_str(cli_json *j, cJSON *parent, const char *key, const char *s) {
    if (dead(j)) return;
    put(j, parent, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void cli_json_bool(cli_json *j, cJSON *parent, const char *key, int b) {
    if (dead(j)) return;
    put(j, parent, key, cJSON_CreateBool(b != 0));
}

void cli_json_null(cli_json *j, cJSON *parent, const char *key) {
    if (dead(j)) return;
    put(j, parent, key, cJSON_CreateNull());
}

char *cli_json_text(cli_json *j) {
    char *t = j->failed || !j->root ? NULL : cJSON_Print(j->root);
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = strlen(t);
    char *out = malloc(n + 2);
    if (out) {
        memcpy(out, t, n);
        out[n] = '\n';
        out[n + 1] = '\0';
    }
    cJSON_free(t);
    if (!out) errno = ENOMEM;
    return out;
}

int cli_json_print(cli_json *j, FILE *f) {
    char *t = cli_json_text(j);
    if (!t) return -1;
    size_t n = strlen(t);
    int ok = fwrite(t, 1, n, f) == n && fflush(f) == 0;
    int e = errno;
    free(t);
    if (!ok) errno = e ? e : EIO;
    return ok ? 0 : -1;
}

int cli_json_write(cli_json *j, const char *path) {
    char *t = cli_json_text(j);
    if (!t) return -1;
    cli_atomic a;
    if (cli_atomic_open(&a, path) != 0) {
        int e = errno;
        free(t);
        errno = e;
        return -1;
    }
    size_t n = strlen(t);
    int ok = fwrite(t, 1, n, a.f) == n;
    free(t);
    if (!ok) {
        int e = errno ? errno : EIO;
        cli_atomic_abort(&a);
        errno = e;
        return -1;
    }
    return cli_atomic_commit(&a);
}

void cli_json_free(cli_json *j) {
    cJSON_Delete(j->root);
    j->root = NULL;
    j->failed = 1;
}
