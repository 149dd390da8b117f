#ifndef CFUZZTLS_H
#define CFUZZTLS_H
// For Fuzz/Sources/FuzzTLS only (docs/HARDENING.md, "Fuzzing").
#include <stdint.h>

/// Counts `feature` (any 64-bit value; hashed into a slot) in libFuzzer's extra counters, which it
/// reads as coverage. OpenSSL is not instrumented, so without these the fuzzer would see nothing
/// of how far into OpenSSL's state machine an input got.
void fuzz_tls_feature(uint64_t feature);

/// SSL_get_state(ssl): where the handshake state machine stands (OSSL_HANDSHAKE_STATE).
int fuzz_tls_state(void *ssl);

/// ERR_peek_error(): the oldest entry of this thread's OpenSSL error queue, 0 when it is empty.
unsigned long fuzz_tls_error_queue_peek(void);

/// ERR_clear_error(), after a finding has been reported.
void fuzz_tls_error_queue_clear(void);

#endif
