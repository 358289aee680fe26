/*
 * tls_spec.h - the `tls:` section shared by every kind that speaks TLS.
 *
 *   tls: { ca_file: ..., cert_file: ..., key_file: ..., insecure: false,
 *          min_days_left: 14, server_name: example.org }
 *
 * For http checks the section only tunes TLS (https:// URLs always use it);
 * for tcp checks its presence turns TLS on (`enabled: false` turns it off).
 */
#ifndef YS_PROBE_TLS_SPEC_H
#define YS_PROBE_TLS_SPEC_H

#include <stdbool.h>
#include <stdint.h>

struct ys_node;
struct ys_diag;

struct ys_tls_spec {
    bool present;          /* the check has a tls: section */
    bool enabled;          /* default true when present */
    char *ca_file;         /* PEM bundle of trusted CAs; NULL: system store */
    char *cert_file;       /* client certificate (PEM) */
    char *key_file;        /* client key (PEM) */
    char *server_name;     /* SNI and name to verify; NULL: from the target */
    bool insecure;         /* skip verification (facts are still gathered) */
    int64_t min_days_left; /* fail when the leaf expires sooner; -1: no check */
};

/* Parses node (may be NULL: absent) into spec. Returns 0 or YS_ECONFIG. */
int ys_tls_spec_parse(const struct ys_node *node, struct ys_tls_spec *spec, struct ys_diag *d);
void ys_tls_spec_free(struct ys_tls_spec *spec);

#endif
