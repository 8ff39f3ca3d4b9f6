/* hello.c -- initialize a ReLU layer's weight the way PyTorch's kaiming_normal_ does. */
#include <nninit.h>
#include <stdio.h>

int main(void) {
    static float w[256 * 784];
    nninit_tensor t = nninit_tensor_2d(256, 784, NNINIT_F32);   /* (out, in) */
    nninit_spec s = nninit_spec_default(NNINIT_KAIMING_NORMAL); /* fan_in */
    s.nonlinearity = NNINIT_NL_RELU;                            /* std = sqrt(2/784) */
    nninit_status st = nninit_fill(&s, &t, nninit_key_from_name(42, "fc1.weight"), w);
    if (st != NNINIT_OK) {
        fprintf(stderr, "nninit: %s\n", nninit_last_error());
        return 1;
    }
    printf("w[0] = %f\n", w[0]);
    return 0;
}
