/*
 * fuzz_main.c: the libFuzzer entry point of one target, chosen at compile
 * time with -DCS_FUZZ_ENTRY=cs_fuzz_<target> (tests/fuzz/meson.build).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return CS_FUZZ_ENTRY(data, size);
}
