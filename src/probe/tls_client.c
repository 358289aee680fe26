/*
 * tls_client.c - OpenSSL client on a non-blocking socket (see tls_client.h).
 *
 * Data: a ys_tls_client wraps one SSL_CTX configured once from a spec
 * (trusted CAs, client certificate, verify mode, the facts callback of
 * tls_facts.c); a ys_tls_conn wraps one SSL bound to a borrowed fd.
 *
 * Invariants:
 * - Session caching and tickets are off, so every handshake is a full one:
 *   the probe measures what a new client pays, and two probes of one check
 *   never share state.
 * - The OpenSSL error queue is thread-local and shared with libcurl on the
 *   loop thread, so it is cleared before each SSL call and after reading a
 *   failure: an error left behind would be blamed on someone else's call.
 * - Verification failures are reported with X509_verify_cert_error_string,
 *   so a person reads "certificate has expired", not an error number.
 *
 * Loop thread only.
 */
#include "probe/tls_client.h"

#include "core/xalloc.h"
#include "probe/tls_facts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct ys_tls_client {
    SSL_CTX *ctx;
};

struct ys_tls_conn {
    SSL *ssl;
    struct ys_tls_facts *facts;
    char *name; /* the name verified, for mismatch messages */
};

/* The reason of the newest queued OpenSSL error ("wrong version number"),
 * or fallback; clears the queue. */
static const char *openssl_reason(const char *fallback)
{
    unsigned long code = ERR_peek_last_error();
    const char *r = code ? ERR_reason_error_string(code) : NULL;
    ERR_clear_error();
    return r ? r : fallback;
}

static int load_client_cert(SSL_CTX *ctx, const struct ys_tls_spec *spec, struct ys_err *err)
{
    if (!spec->cert_file)
        return 0;
    if (SSL_CTX_use_certificate_chain_file(ctx, spec->cert_file) != 1)
        return ys_err_set(err, YS_EIO, "cannot load client certificate '%s': %s", spec->cert_file,
                          openssl_reason("unknown error"));
    const char *key = spec->key_file ? spec->key_file : spec->cert_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return ys_err_set(err, YS_EIO, "cannot load client key '%s': %s", key,
                          openssl_reason("unknown error"));
    if (SSL_CTX_check_private_key(ctx) != 1)
        return ys_err_set(err, YS_EIO, "client key '%s' does not match certificate '%s'", key,
                          spec->cert_file);
    return 0;
}

int ys_tls_client_new(const struct ys_tls_spec *spec, struct ys_tls_client **out,
                      struct ys_err *err)
{
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return ys_err_set(err, YS_EINTERNAL, "cannot create TLS context: %s",
                          openssl_reason("unknown error"));
    int rc = 0;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* Many TLS services close without close_notify; that is the end of the
     * stream for us, not an error. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (spec->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, spec->ca_file, NULL) != 1) {
            rc = ys_err_set(err, YS_EIO, "cannot load CA file '%s': %s", spec->ca_file,
                            openssl_reason("unknown error"));
            goto out;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        rc = ys_err_set(err, YS_EIO, "cannot load the system CA store: %s",
                        openssl_reason("unknown error"));
        goto out;
    }
    rc = load_client_cert(ctx, spec, err);
    if (rc < 0)
        goto out;
    /* The mode must be set before the facts callback is installed, which
     * keeps it. With SSL_VERIFY_NONE OpenSSL still walks the chain and calls
     * the callback, so an insecure check still reports its certificate. */
    SSL_CTX_set_verify(ctx, spec->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    ys_tls_facts_install(ctx);
out:
    if (rc < 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ys_xcalloc(1, sizeof **out);
    (*out)->ctx = ctx;
    return 0;
}

void ys_tls_client_free(struct ys_tls_client *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

static bool is_ip_literal(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

int ys_tls_conn_new(struct ys_tls_client *c, int fd, const char *name, struct ys_tls_facts *facts,
                    struct ys_tls_conn **out, struct ys_err *err)
{
    *out = NULL;
    ERR_clear_error();
    SSL *ssl = SSL_new(c->ctx);
    if (!ssl)
        return ys_err_set(err, YS_EINTERNAL, "cannot create TLS connection: %s",
                          openssl_reason("unknown error"));
    int ok = SSL_set_fd(ssl, fd);
    if (ok && name && is_ip_literal(name)) {
        /* RFC 6066 forbids IP literals in SNI; verify the IP SAN instead. */
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
    } else if (ok && name) {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = SSL_set_tlsext_host_name(ssl, name) && SSL_set1_host(ssl, name);
    }
    if (!ok) {
        SSL_free(ssl);
        return ys_err_set(err, YS_EINTERNAL, "cannot set up TLS for '%s': %s", name ? name : "",
                          openssl_reason("unknown error"));
    }
    SSL_set_connect_state(ssl);
    ys_tls_facts_bind(ssl, facts);
    *out = ys_xcalloc(1, sizeof **out);
    (*out)->ssl = ssl;
    (*out)->facts = facts;
    (*out)->name = ys_xstrdup(name);
    return 0;
}

void ys_tls_conn_free(struct ys_tls_conn *conn)
{
    if (!conn)
        return;
    SSL_free(conn->ssl);
    free(conn->name);
    free(conn);
}

/* The verify callback records the chain as OpenSSL walks it; if the walk
 * stopped before the leaf (or never started), take what the peer sent. */
static void facts_fallback(struct ys_tls_conn *conn)
{
    if (!conn->facts || conn->facts->leaf_not_after)
        return;
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(conn->ssl);
    for (int i = 0; chain && i < sk_X509_num(chain); i++)
        ys_tls_facts_add(conn->facts, sk_X509_value(chain, i), i);
}

/* Maps the outcome ret of an SSL call (sys_errno: errno right after it)
 * to our return codes. what names the step for messages. */
static int ssl_outcome(struct ys_tls_conn *conn, int ret, int sys_errno, const char *what,
                       struct ys_err *err)
{
    int e = SSL_get_error(conn->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ: return YS_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return YS_TLS_WANT_WRITE;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_last_error() == 0) {
            ERR_clear_error();
            if (sys_errno == 0)
                return ys_err_set(err, YS_EIO, "%s failed: connection closed by peer", what);
            return ys_err_set(err, YS_EIO, "%s failed: %s", what,
                              uv_strerror(uv_translate_sys_error(sys_errno)));
        }
        break;
    default: break;
    }
    long v = SSL_get_verify_result(conn->ssl);
    if (v != X509_V_OK && SSL_get_verify_mode(conn->ssl) != SSL_VERIFY_NONE) {
        ERR_clear_error();
        /* A mismatch is only useful to a person who sees which name. */
        bool mismatch = v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH;
        return ys_err_set(err, YS_EIO, "certificate verify failed: %s%s%s%s",
                          X509_verify_cert_error_string(v),
                          mismatch ? " (the certificate is not valid for '" : "",
                          mismatch && conn->name ? conn->name : "", mismatch ? "')" : "");
    }
    return ys_err_set(err, YS_EIO, "%s failed: %s", what, openssl_reason("protocol error"));
}

int ys_tls_conn_handshake(struct ys_tls_conn *conn, struct ys_err *err)
{
    ERR_clear_error();
    errno = 0;
    int ret = SSL_connect(conn->ssl);
    int sys_errno = errno;
    if (ret == 1) {
        facts_fallback(conn);
        return 0;
    }
    int rc = ssl_outcome(conn, ret, sys_errno, "TLS handshake", err);
    if (rc < 0)
        facts_fallback(conn);
    return rc;
}

int ys_tls_conn_write(struct ys_tls_conn *conn, const void *buf, size_t len, size_t *written,
                      struct ys_err *err)
{
    *written = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write_ex(conn->ssl, buf, len, written);
    int sys_errno = errno;
    if (ret == 1)
        return 0;
    return ssl_outcome(conn, ret, sys_errno, "TLS write", err);
}

int ys_tls_conn_read(struct ys_tls_conn *conn, void *buf, size_t cap, size_t *got,
                     struct ys_err *err)
{
    *got = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read_ex(conn->ssl, buf, cap, got);
    int sys_errno = errno;
    if (ret == 1)
        return 0;
    if (SSL_get_error(conn->ssl, ret) == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return 0; /* *got == 0: the end of the stream */
    }
    return ssl_outcome(conn, ret, sys_errno, "TLS read", err);
}

const char *ys_tls_conn_version(const struct ys_tls_conn *conn)
{
    return SSL_is_init_finished(conn->ssl) ? SSL_get_version(conn->ssl) : "";
}
