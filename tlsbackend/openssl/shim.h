// Declarations shared by the cgo Go files and shim.c. OpenSSL's error
// queue is per thread, so every call whose failure we report goes through a
// wrapper here that clears the queue, calls, and captures the error in the
// same C call (a later cgo call may run on another thread).

#ifndef PINGORA_TLSBACKEND_OPENSSL_SHIM_H
#define PINGORA_TLSBACKEND_OPENSSL_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// A certificate chain and key converted for OpenSSL.
typedef struct {
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
} pg_keypair;

// ALPN wire list handed to the server's select callback.
typedef struct {
	unsigned char *protos;
	unsigned int len;
} pg_alpn;

SSL_CTX *pg_ctx_new(int server, int minv, int maxv, unsigned long *err);
int pg_ctx_set_server(SSL_CTX *ctx, pg_alpn *alpn, unsigned long *err);
int pg_ctx_add_ca(SSL_CTX *ctx, const unsigned char *der, int len, int client_ca, unsigned long *err);
int pg_ctx_default_roots(SSL_CTX *ctx, unsigned long *err);
void pg_ctx_set_verify(SSL_CTX *ctx, int mode);
int pg_ctx_use_keypair(SSL_CTX *ctx, pg_keypair *kp, unsigned long *err);

pg_keypair *pg_keypair_new(void);
int pg_keypair_set(pg_keypair *kp, const unsigned char *leaf, int leaflen, const unsigned char *key, int keylen, unsigned long *err);
int pg_keypair_add_chain(pg_keypair *kp, const unsigned char *der, int len, unsigned long *err);
void pg_keypair_free(pg_keypair *kp);
int pg_use_keypair(SSL *ssl, pg_keypair *kp);

SSL *pg_ssl_new(SSL_CTX *ctx, int server, uintptr_t handle, unsigned long *err);
int pg_client_setup(SSL *ssl, const char *sni, const char *host, const char *ip, const unsigned char *alpn, unsigned int alpnlen, unsigned long *err);
int pg_add_host(SSL *ssl, const char *host, unsigned long *err);
void pg_set_handle(SSL *ssl, uintptr_t handle);

int pg_handshake(SSL *ssl, int *sslerr, unsigned long *err);
int pg_read(SSL *ssl, void *buf, int len, int *sslerr, unsigned long *err);
int pg_write(SSL *ssl, const void *buf, int len, int *sslerr, unsigned long *err);
void pg_shutdown(SSL *ssl);
int pg_feed(SSL *ssl, const void *buf, int len);
int pg_drain(SSL *ssl, void *buf, int len);
size_t pg_pending_out(SSL *ssl);
size_t pg_pending_in(SSL *ssl);

int pg_peer_count(SSL *ssl);
int pg_peer_der(SSL *ssl, int i, unsigned char *out, int cap);
uint16_t pg_cipher_id(SSL *ssl);
int pg_alpn_selected(SSL *ssl, const unsigned char **data);
const char *pg_servername(SSL *ssl);

void pg_errstr(unsigned long e, char *buf, size_t len);
int pg_fips(void);
const char *pg_version(void);

#endif
