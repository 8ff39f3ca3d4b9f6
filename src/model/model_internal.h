/* model_internal.h -- the model's representation, shared by src/model/. */
#ifndef NNINIT_MODEL_INTERNAL_H
#define NNINIT_MODEL_INTERNAL_H

#include "nninit_checkpoint.h"
#include "nninit_model.h"

#define NNINIT_MODEL_MAX_NAME 1024
#define NNINIT_MODEL_FORMAT   "nninit-spec/1"

struct nninit_model {
    nninit_model_tensor *t;
    char **tinit; /* tensor i's own init text (a resolved fans_of), else NULL */
    size_t nt, ct;
    nninit_model_rule *r;
    nninit_spec *rspec; /* rule r's parsed scheme */
    size_t nr, cr;
    int resolved;
    int allow_unused;
};

/* Bytes of tensor e's data, of one element, and its safetensors dtype, as
 * the writer stores it (write.c and any other writer of a model go through
 * these): nninit_model_tensor_bytes, nninit_st_dtype_size(e->dtype), e->dtype. */
uint64_t nninit__model_tensor_bytes(const nninit_model_tensor *e);
size_t nninit__model_elem_size(const nninit_model_tensor *e);
nninit_st_dtype nninit__model_st_dtype(const nninit_model_tensor *e);

#endif
