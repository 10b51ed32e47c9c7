//go:build openssl && cgo

#include <string.h>
#include "shim.h"
#include "_cgo_export.h"

static const char *tls12_ciphers =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static const unsigned char session_ctx[] = "pingora-go";

// take_err returns the most recent queued error and empties the queue.
static unsigned long take_err(void) {
	unsigned long e = ERR_peek_last_error();
	ERR_clear_error();
	return e;
}

SSL_CTX *pg_ctx_new(int server, int minv, int maxv, unsigned long *err) {
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		*err = take_err();
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, minv) || !SSL_CTX_set_max_proto_version(ctx, maxv) ||
	    !SSL_CTX_set_cipher_list(ctx, tls12_ciphers)) {
		*err = take_err();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	// Idle connections give their record buffers back.
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (server) {
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
		SSL_CTX_set_session_id_context(ctx, session_ctx, sizeof session_ctx - 1);
	} else {
		// There is no client session cache in this interface.
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	return ctx;
}

static int sni_cb(SSL *ssl, int *al, void *arg) {
	(void)arg;
	int r = pgoServerName((uintptr_t)SSL_get_app_data(ssl), ssl);
	if (r == SSL_TLSEXT_ERR_ALERT_FATAL) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
	}
	return r;
}

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg) {
	(void)ssl;
	pg_alpn *a = arg;
	unsigned char *sel = NULL;
	unsigned char sellen = 0;
	if (a == NULL || a->len == 0) {
		return SSL_TLSEXT_ERR_NOACK;
	}
	// Server preference order; no overlap means no ALPN, as in Pingora.
	if (SSL_select_next_proto(&sel, &sellen, a->protos, a->len, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
		return SSL_TLSEXT_ERR_NOACK;
	}
	*out = sel;
	*outlen = sellen;
	return SSL_TLSEXT_ERR_OK;
}

int pg_ctx_set_server(SSL_CTX *ctx, pg_alpn *alpn, unsigned long *err) {
	(void)err;
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	if (alpn != NULL) {
		SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, alpn);
	}
	return 1;
}

int pg_ctx_add_ca(SSL_CTX *ctx, const unsigned char *der, int len, int client_ca, unsigned long *err) {
	ERR_clear_error();
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, len);
	if (x == NULL) {
		*err = take_err();
		return 0;
	}
	int ok = X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), x);
	if (ok && client_ca) {
		ok = SSL_CTX_add_client_CA(ctx, x);
	}
	X509_free(x);
	if (!ok) {
		*err = take_err();
	}
	return ok;
}

int pg_ctx_default_roots(SSL_CTX *ctx, unsigned long *err) {
	ERR_clear_error();
	if (!SSL_CTX_set_default_verify_paths(ctx)) {
		*err = take_err();
		return 0;
	}
	return 1;
}

void pg_ctx_set_verify(SSL_CTX *ctx, int mode) { SSL_CTX_set_verify(ctx, mode, NULL); }

int pg_ctx_use_keypair(SSL_CTX *ctx, pg_keypair *kp, unsigned long *err) {
	ERR_clear_error();
	if (!SSL_CTX_use_cert_and_key(ctx, kp->cert, kp->key, kp->chain, 1)) {
		*err = take_err();
		return 0;
	}
	return 1;
}

pg_keypair *pg_keypair_new(void) {
	pg_keypair *kp = OPENSSL_zalloc(sizeof *kp);
	if (kp != NULL) {
		kp->chain = sk_X509_new_null();
		if (kp->chain == NULL) {
			OPENSSL_free(kp);
			return NULL;
		}
	}
	return kp;
}

int pg_keypair_set(pg_keypair *kp, const unsigned char *leaf, int leaflen, const unsigned char *key, int keylen, unsigned long *err) {
	ERR_clear_error();
	const unsigned char *p = leaf;
	kp->cert = d2i_X509(NULL, &p, leaflen);
	if (kp->cert == NULL) {
		*err = take_err();
		return 0;
	}
	p = key;
	kp->key = d2i_AutoPrivateKey(NULL, &p, keylen);
	if (kp->key == NULL) {
		*err = take_err();
		return 0;
	}
	if (!X509_check_private_key(kp->cert, kp->key)) {
		*err = take_err();
		return 0;
	}
	return 1;
}

int pg_keypair_add_chain(pg_keypair *kp, const unsigned char *der, int len, unsigned long *err) {
	ERR_clear_error();
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, len);
	if (x == NULL) {
		*err = take_err();
		return 0;
	}
	if (!sk_X509_push(kp->chain, x)) {
		X509_free(x);
		*err = take_err();
		return 0;
	}
	return 1;
}

void pg_keypair_free(pg_keypair *kp) {
	if (kp == NULL) {
		return;
	}
	X509_free(kp->cert);
	EVP_PKEY_free(kp->key);
	sk_X509_pop_free(kp->chain, X509_free);
	OPENSSL_free(kp);
}

// pg_use_keypair installs kp on ssl; ssl takes its own references.
int pg_use_keypair(SSL *ssl, pg_keypair *kp) {
	return SSL_use_cert_and_key(ssl, kp->cert, kp->key, kp->chain, 1);
}

SSL *pg_ssl_new(SSL_CTX *ctx, int server, uintptr_t handle, unsigned long *err) {
	ERR_clear_error();
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		*err = take_err();
		return NULL;
	}
	BIO *rbio = BIO_new(BIO_s_mem());
	BIO *wbio = BIO_new(BIO_s_mem());
	if (rbio == NULL || wbio == NULL) {
		*err = take_err();
		BIO_free(rbio);
		BIO_free(wbio);
		SSL_free(ssl);
		return NULL;
	}
	// An empty read BIO means "retry" (WANT_READ), not EOF.
	BIO_set_mem_eof_return(rbio, -1);
	BIO_set_mem_eof_return(wbio, -1);
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_app_data(ssl, (void *)handle);
	if (server) {
		SSL_set_accept_state(ssl);
	} else {
		SSL_set_connect_state(ssl);
	}
	return ssl;
}

void pg_set_handle(SSL *ssl, uintptr_t handle) { SSL_set_app_data(ssl, (void *)handle); }

// pg_add_host adds one more DNS name the peer certificate may match (after
// pg_client_setup set the first).
int pg_add_host(SSL *ssl, const char *host, unsigned long *err) {
	ERR_clear_error();
	if (!SSL_add1_host(ssl, host)) {
		*err = take_err();
		return 0;
	}
	return 1;
}

int pg_client_setup(SSL *ssl, const char *sni, const char *host, const char *ip, const unsigned char *alpn, unsigned int alpnlen, unsigned long *err) {
	ERR_clear_error();
	if (sni != NULL && !SSL_set_tlsext_host_name(ssl, sni)) {
		goto fail;
	}
	if (host != NULL) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (!SSL_set1_host(ssl, host)) {
			goto fail;
		}
	}
	if (ip != NULL && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip)) {
		goto fail;
	}
	// SSL_set_alpn_protos returns 0 on success.
	if (alpnlen > 0 && SSL_set_alpn_protos(ssl, alpn, alpnlen) != 0) {
		goto fail;
	}
	return 1;
fail:
	*err = take_err();
	return 0;
}

int pg_handshake(SSL *ssl, int *sslerr, unsigned long *err) {
	ERR_clear_error();
	int r = SSL_do_handshake(ssl);
	if (r <= 0) {
		*sslerr = SSL_get_error(ssl, r);
		*err = take_err();
	}
	return r;
}

int pg_read(SSL *ssl, void *buf, int len, int *sslerr, unsigned long *err) {
	ERR_clear_error();
	int r = SSL_read(ssl, buf, len);
	if (r <= 0) {
		*sslerr = SSL_get_error(ssl, r);
		*err = take_err();
	}
	return r;
}

int pg_write(SSL *ssl, const void *buf, int len, int *sslerr, unsigned long *err) {
	ERR_clear_error();
	int r = SSL_write(ssl, buf, len);
	if (r <= 0) {
		*sslerr = SSL_get_error(ssl, r);
		*err = take_err();
	}
	return r;
}

void pg_shutdown(SSL *ssl) {
	ERR_clear_error();
	SSL_shutdown(ssl);
	ERR_clear_error();
}

int pg_feed(SSL *ssl, const void *buf, int len) { return BIO_write(SSL_get_rbio(ssl), buf, len); }

int pg_drain(SSL *ssl, void *buf, int len) {
	int n = BIO_read(SSL_get_wbio(ssl), buf, len);
	return n < 0 ? 0 : n;
}

size_t pg_pending_out(SSL *ssl) { return BIO_ctrl_pending(SSL_get_wbio(ssl)); }
size_t pg_pending_in(SSL *ssl) { return BIO_ctrl_pending(SSL_get_rbio(ssl)); }

// Peer certificates, leaf first. On a server OpenSSL's peer chain omits the
// leaf; on a client it includes it.
int pg_peer_count(SSL *ssl) {
	if (SSL_get0_peer_certificate(ssl) == NULL) {
		return 0;
	}
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	int n = chain == NULL ? 0 : sk_X509_num(chain);
	return SSL_is_server(ssl) ? n + 1 : (n > 0 ? n : 1);
}

static X509 *peer_at(SSL *ssl, int i) {
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	if (i == 0 || leaf == NULL) {
		return leaf;
	}
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	if (chain == NULL) {
		return NULL;
	}
	int j = SSL_is_server(ssl) ? i - 1 : i;
	return j < sk_X509_num(chain) ? sk_X509_value(chain, j) : NULL;
}

// pg_peer_der writes certificate i as DER into out and returns its length,
// or the length needed when cap is too small, or 0 when there is none.
int pg_peer_der(SSL *ssl, int i, unsigned char *out, int cap) {
	X509 *x = peer_at(ssl, i);
	if (x == NULL) {
		return 0;
	}
	int n = i2d_X509(x, NULL);
	if (n <= 0 || n > cap) {
		return n < 0 ? 0 : n;
	}
	unsigned char *p = out;
	return i2d_X509(x, &p);
}

uint16_t pg_cipher_id(SSL *ssl) {
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	return c == NULL ? 0 : SSL_CIPHER_get_protocol_id(c);
}

int pg_alpn_selected(SSL *ssl, const unsigned char **data) {
	unsigned int len = 0;
	SSL_get0_alpn_selected(ssl, data, &len);
	return (int)len;
}

const char *pg_servername(SSL *ssl) { return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); }

void pg_errstr(unsigned long e, char *buf, size_t len) { ERR_error_string_n(e, buf, len); }

int pg_fips(void) { return EVP_default_properties_is_fips_enabled(NULL); }

const char *pg_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
