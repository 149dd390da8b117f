#ifndef CFUZZCOUNTERS_H
#define CFUZZCOUNTERS_H
// For the fuzz targets of uninstrumented C libraries (FuzzTLS: OpenSSL; FuzzHTTP2: nghttp2);
// docs/HARDENING.md, "Fuzzing". Linked only by the targets that use it: every target linking it
// has libFuzzer clear its counters before each input.
#include <stdint.h>

/// Counts `feature` (any 64-bit value; hashed into a slot) in libFuzzer's extra counters, which it
/// reads as coverage: what an input made the library do, which it cannot see itself.
void fuzz_feature(uint64_t feature);

#endif
