/*
 * tls_facts.h - certificate facts from an OpenSSL verification, shared by
 * every probe kind that speaks TLS (http through libcurl, tcp directly).
 *
 * The facts are gathered in a verify callback, which OpenSSL calls for each
 * certificate of the chain even when verification fails, so an expired or
 * untrusted certificate still reports its notAfter and names.
 */
#ifndef YS_PROBE_TLS_FACTS_H
#define YS_PROBE_TLS_FACTS_H

#include "core/result.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Records cert (at chain depth depth) into facts: the earliest notAfter of
 * the chain, and for depth 0 the leaf's notAfter, subject and issuer. */
void ys_tls_facts_add(struct ys_tls_facts *facts, X509 *cert, int depth);
/* Installs a verify callback on ctx that feeds ys_tls_facts_add for every
 * certificate; the facts go to the struct set with ys_tls_facts_bind. The
 * callback never changes the verification outcome. */
void ys_tls_facts_install(SSL_CTX *ctx);
/* Points the callback of ssl (created from an installed ctx) at facts.
 * facts must outlive the handshake. */
void ys_tls_facts_bind(SSL *ssl, struct ys_tls_facts *facts);
/* Binds through the SSL_CTX (for libcurl, which creates the SSL itself):
 * every SSL made from ctx reports into facts. */
void ys_tls_facts_bind_ctx(SSL_CTX *ctx, struct ys_tls_facts *facts);

#endif
