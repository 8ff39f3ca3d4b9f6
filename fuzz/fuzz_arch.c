/* fuzz_arch.c -- nninit_arch_parse() on the input as text (docs/GRAMMAR.md);
 * an architecture that parses is built with nninit_net_create() (and, if
 * small, run forward and backward once), then freed. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    fuzz_arch_parse_check(nninit_arch_parse, text);
    free(text);
    return 0;
}
