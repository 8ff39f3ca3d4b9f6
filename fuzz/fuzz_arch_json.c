/* fuzz_arch_json.c -- nninit_arch_parse_json() on the input (docs/GRAMMAR.md,
 * "JSON form"); what parses is built as in fuzz_arch. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *json = fuzz_cstr(data, size);
    fuzz_arch_parse_check(nninit_arch_parse_json, json);
    free(json);
    return 0;
}
