/* error.c -- status names, the thread-local last-error message, version. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char nninit__msg[512];

/* Formats into a local buffer first: a message may quote nninit_last_error()
 * (a prefix on a lower layer's message), and vsnprintf from the buffer into
 * itself is undefined behaviour (it printed "x: x: hannels ..."). */
nninit_status nninit__err(nninit_status s, const char *fmt, ...) {
    char tmp[sizeof nninit__msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(nninit__msg, tmp, sizeof tmp);
    return s;
}

const char *nninit_last_error(void) { return nninit__msg; }

const char *nninit_status_str(nninit_status s) {
    switch (s) {
    case NNINIT_OK: return "NNINIT_OK";
    case NNINIT_ERR_NULL: return "NNINIT_ERR_NULL";
    case NNINIT_ERR_SHAPE: return "NNINIT_ERR_SHAPE";
    case NNINIT_ERR_OVERFLOW: return "NNINIT_ERR_OVERFLOW";
    case NNINIT_ERR_PARAM: return "NNINIT_ERR_PARAM";
    case NNINIT_ERR_RANGE: return "NNINIT_ERR_RANGE";
    case NNINIT_ERR_SPARSITY: return "NNINIT_ERR_SPARSITY";
    case NNINIT_ERR_NONLINEARITY: return "NNINIT_ERR_NONLINEARITY";
    case NNINIT_ERR_DIMS: return "NNINIT_ERR_DIMS";
    case NNINIT_ERR_GROUPS: return "NNINIT_ERR_GROUPS";
    case NNINIT_ERR_DTYPE: return "NNINIT_ERR_DTYPE";
    case NNINIT_ERR_NOT_REPRESENTABLE: return "NNINIT_ERR_NOT_REPRESENTABLE";
    case NNINIT_ERR_NOMEM: return "NNINIT_ERR_NOMEM";
    case NNINIT_ERR_LAPACK: return "NNINIT_ERR_LAPACK";
    case NNINIT_ERR_SLICE: return "NNINIT_ERR_SLICE";
    case NNINIT_ERR_NOT_ELEMENTWISE: return "NNINIT_ERR_NOT_ELEMENTWISE";
    case NNINIT_ERR_LAYOUT: return "NNINIT_ERR_LAYOUT";
    case NNINIT_ERR_IO: return "NNINIT_ERR_IO";
    case NNINIT_ERR_UNKNOWN_NAME: return "NNINIT_ERR_UNKNOWN_NAME";
    case NNINIT_ERR_DIVERGED: return "NNINIT_ERR_DIVERGED";
    case NNINIT_ERR_ARCH: return "NNINIT_ERR_ARCH";
    case NNINIT_ERR_FORMAT: return "NNINIT_ERR_FORMAT";
    }
    return "NNINIT_ERR_UNKNOWN_STATUS";
}

#define NNINIT_STR2(x) #x
#define NNINIT_STR(x)  NNINIT_STR2(x)

const char *nninit_version_string(void) {
    return NNINIT_STR(NNINIT_VERSION_MAJOR) "." NNINIT_STR(NNINIT_VERSION_MINOR) "." NNINIT_STR(NNINIT_VERSION_PATCH);
}

unsigned nninit_version_number(void) { return NNINIT_VERSION_NUMBER; }
