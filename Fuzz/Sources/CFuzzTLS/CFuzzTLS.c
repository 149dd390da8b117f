#include "CFuzzTLS.h"
#include <openssl/err.h>
#include <openssl/ssl.h>

int fuzz_tls_state(void *ssl) { return (int)SSL_get_state((const SSL *)ssl); }

unsigned long fuzz_tls_error_queue_peek(void) { return ERR_peek_error(); }

void fuzz_tls_error_queue_clear(void) { ERR_clear_error(); }
