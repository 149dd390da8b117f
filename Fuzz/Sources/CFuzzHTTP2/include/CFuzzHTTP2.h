#ifndef CFUZZHTTP2_H
#define CFUZZHTTP2_H
// For Fuzz/Sources/FuzzHTTP2 only (docs/HARDENING.md, "Fuzzing").
#include <stdint.h>

/// Counts `feature` (any 64-bit value; hashed into a slot) in libFuzzer's extra counters, which it
/// reads as coverage. nghttp2 is not instrumented, so without these the fuzzer would see little of
/// what an input made it do (the frames it answered with, the errors, the events).
void fuzz_h2_feature(uint64_t feature);

#endif
