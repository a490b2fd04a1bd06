#ifndef CBURGFUZZ_H
#define CBURGFUZZ_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (in the fuzzer runtime that `-sanitize=fuzzer` links): runs `callback` on
/// generated inputs with libFuzzer's command-line flags. burg-fuzz calls it from its own entry point so
/// that one executable holds every harness.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
