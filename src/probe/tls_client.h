/*
 * tls_client.h - a small TLS client on a connected non-blocking socket.
 *
 * Two objects: a ys_tls_client is one verifying SSL_CTX built from a
 * `tls:` spec (CA store, client certificate, verify mode, certificate-facts
 * callback), made once per check and shared by its probes; a ys_tls_conn is
 * one SSL on one socket, with a full handshake every time (session caching
 * is off: a monitor measures the handshake a new client would do).
 *
 * Nothing here waits: every call returns YS_TLS_WANT_READ or
 * YS_TLS_WANT_WRITE when the socket is not ready, and the caller (tcp.c)
 * watches the socket with its event loop and calls again. The module knows
 * nothing of libuv.
 *
 * Loop thread only (an SSL_CTX may be shared across threads, but the
 * lazily built cache in the spec is not locked).
 */
#ifndef YS_PROBE_TLS_CLIENT_H
#define YS_PROBE_TLS_CLIENT_H

#include "core/err.h"
#include "core/result.h"
#include "probe/tls_spec.h"

#include <stddef.h>

struct ys_tls_client;
struct ys_tls_conn;

/* Positive returns of the I/O calls below: wait for the socket to become
 * readable (or writable) and call again. */
enum { YS_TLS_WANT_READ = 1, YS_TLS_WANT_WRITE = 2 };

/* Builds a client context from spec (borrowed only during the call).
 * Returns 0 and an owned client, or YS_EIO (unreadable CA, certificate or
 * key file, or a key that does not match its certificate) or YS_EINTERNAL
 * with a sentence in err. */
int ys_tls_client_new(const struct ys_tls_spec *spec, struct ys_tls_client **out,
                      struct ys_err *err);
/* Frees a client; NULL is a no-op. No conn made from it may remain. */
void ys_tls_client_free(struct ys_tls_client *c);

/* Starts a TLS connection on fd (connected, non-blocking; borrowed: the
 * caller closes it after ys_tls_conn_free). name is the name to send as
 * SNI and to verify, normally the target host: an IP literal is verified
 * against the certificate's IP addresses and sends no SNI. facts (borrowed,
 * must outlive the conn) receives the certificate facts of the handshake,
 * even when verification fails. Returns 0 and an owned conn, or
 * YS_EINTERNAL with err filled. */
int ys_tls_conn_new(struct ys_tls_client *c, int fd, const char *name, struct ys_tls_facts *facts,
                    struct ys_tls_conn **out, struct ys_err *err);
/* Frees conn without a close_notify (the probe is done with the peer).
 * NULL is a no-op. */
void ys_tls_conn_free(struct ys_tls_conn *conn);

/* Drives the handshake. Returns 0 when it is complete, YS_TLS_WANT_*, or
 * a negative code with err filled: for a failed verification, err carries
 * OpenSSL's reason ("certificate verify failed: certificate has expired").
 * On any outcome the facts hold whatever certificates the peer showed. */
int ys_tls_conn_handshake(struct ys_tls_conn *conn, struct ys_err *err);
/* Writes up to len bytes; *written is how many went out. Returns 0,
 * YS_TLS_WANT_*, or a negative code with err filled. */
int ys_tls_conn_write(struct ys_tls_conn *conn, const void *buf, size_t len, size_t *written,
                      struct ys_err *err);
/* Reads up to cap bytes; *got is how many arrived, 0 at the end of the
 * stream (close_notify or a plain close). Returns 0, YS_TLS_WANT_*, or a
 * negative code with err filled. */
int ys_tls_conn_read(struct ys_tls_conn *conn, void *buf, size_t cap, size_t *got,
                     struct ys_err *err);
/* The negotiated protocol ("TLSv1.3"), or "" before the handshake ends. */
const char *ys_tls_conn_version(const struct ys_tls_conn *conn);

#endif
