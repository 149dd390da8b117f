#ifndef CFUZZTLS_H
#define CFUZZTLS_H
// For Fuzz/Sources/FuzzTLS only (docs/HARDENING.md, "Fuzzing").
#include <stdint.h>

/// SSL_get_state(ssl): where the handshake state machine stands (OSSL_HANDSHAKE_STATE).
int fuzz_tls_state(void *ssl);

/// ERR_peek_error(): the oldest entry of this thread's OpenSSL error queue, 0 when it is empty.
unsigned long fuzz_tls_error_queue_peek(void);

/// ERR_clear_error(), after a finding has been reported.
void fuzz_tls_error_queue_clear(void);

#endif
