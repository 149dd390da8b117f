#ifndef COPENSSL_H
#define COPENSSL_H

// OpenSSL 3.0 for FaultlineTLS (the only Swift target that imports this module).
// Swift imports OpenSSL's functions and plain integer constants directly; what it cannot import
// (function-like macros, variadic functions, constants built from macros) is wrapped here as
// `static inline` functions and typed constants. Every symbol defined here is COpenSSL_-prefixed.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>

// MARK: SSL_CTX settings (macros over SSL_CTX_ctrl)

static inline long COpenSSL_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline int COpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int COpenSSL_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline long COpenSSL_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
/// Adds `x509` to the chain sent after the leaf certificate; takes ownership on success.
static inline int COpenSSL_SSL_CTX_add0_chain_cert(SSL_CTX *ctx, X509 *x509) {
    return (int)SSL_CTX_add0_chain_cert(ctx, x509);
}
/// SSL_CTX_set_options is a function in 3.0, but its option bits are SSL_OP_BIT(n) macros.
static const uint64_t COpenSSL_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t COpenSSL_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const uint64_t COpenSSL_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const long COpenSSL_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
static const long COpenSSL_SSL_SESS_CACHE_SERVER = SSL_SESS_CACHE_SERVER;
static const long COpenSSL_SSL_SESS_CACHE_CLIENT = SSL_SESS_CACHE_CLIENT;
static const long COpenSSL_SSL_SESS_CACHE_NO_INTERNAL_STORE = SSL_SESS_CACHE_NO_INTERNAL_STORE;

// MARK: Per-connection settings

static inline int COpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
/// A server that has a server-name callback acknowledges SNI and, in TLS 1.2, keeps the name in
/// the session (so a resumed session still reports it).
static inline int COpenSSL_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *)) {
    return (int)SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}
static inline int COpenSSL_SSL_CTX_set_tlsext_servername_arg(SSL_CTX *ctx, void *arg) {
    return (int)SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}

// MARK: Memory BIOs

/// What a drained memory BIO returns: -1 (retry, "want more") until EOF is fed, then 0.
static inline int COpenSSL_BIO_set_mem_eof_return(BIO *bio, int value) {
    return (int)BIO_set_mem_eof_return(bio, value);
}
static inline int COpenSSL_BIO_get_mem_ptr(BIO *bio, BUF_MEM **out) {
    return (int)BIO_get_mem_ptr(bio, out);
}
static inline size_t COpenSSL_BIO_pending(BIO *bio) {
    return BIO_ctrl_pending(bio);
}
/// On a memory BIO, the read position relative to the buffer BIO_get_mem_ptr shows.
static inline long COpenSSL_BIO_tell(BIO *bio) {
    return (long)BIO_tell(bio);
}
/// On a memory BIO, moves the read position without copying (OpenSSL 3.0: bss_mem.c
/// BIO_C_FILE_SEEK moves `readp` inside the buffer). Returns the new offset or -1.
static inline long COpenSSL_BIO_seek(BIO *bio, long offset) {
    return (long)BIO_seek(bio, offset);
}

/// Rewinds a file BIO to its start (0 on success).
static inline int COpenSSL_BIO_reset(BIO *bio) {
    return (int)BIO_reset(bio);
}

// MARK: Memory

static inline void COpenSSL_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}

// MARK: Error queue

static inline int COpenSSL_ERR_GET_LIB(unsigned long code) { return ERR_GET_LIB(code); }
static inline int COpenSSL_ERR_GET_REASON(unsigned long code) { return ERR_GET_REASON(code); }
static inline int COpenSSL_ERR_SYSTEM_ERROR(unsigned long code) { return ERR_SYSTEM_ERROR(code); }
/// Pushes one error as ERR_raise would (ERR_set_error is variadic). Used by tests to plant a stale
/// error on the thread's queue.
static inline void COpenSSL_ERR_raise(int lib, int reason) {
    ERR_new();
    ERR_set_debug(OPENSSL_FILE, OPENSSL_LINE, OPENSSL_FUNC);
    ERR_set_error(lib, reason, NULL);
}

#endif
