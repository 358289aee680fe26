/*
 * dns_propagation_spec.h - the parsed fields of a `kind: dns_propagation`
 * check, its state across probes, and the pure verdict over one probe's
 * answers (kept apart from the I/O in dns_propagation.c so it can be tested
 * with tables of answers and times).
 *
 *   - name: www-propagation
 *     kind: dns_propagation
 *     query: www.example.org          # the record (required)
 *     type: A                         # default A
 *     servers: ["192.0.2.1:53", "[2001:db8::1]:53"]  # IP literals
 *     zone: example.org               # SOA serial comparison, discover_ns
 *     discover_ns: false              # also ask the zone's NS servers...
 *     discover_port: 53               # ...on this port
 *     expect: 192.0.2.10              # the value the record converges to
 *     max_lag: 30s                    # fail while servers disagree longer
 *     recursion: false                # RD bit
 */
#ifndef YS_PROBE_DNS_PROPAGATION_SPEC_H
#define YS_PROBE_DNS_PROPAGATION_SPEC_H

#include "config/read.h"
#include "core/result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_node;
struct ys_diag;
struct ys_check;
struct ys_dns_response;

/* Distinct answer states remembered with the time each was first seen. */
#define YS_DNSPROP_SEEN_MAX 16
/* A server as text: "[v6 address]:port" at most. */
#define YS_DNSPROP_SERVER_MAX 56

/* What the check remembers between probes. It lives in the spec (one per
 * check per loaded config) and only the loop thread touches it; a probe
 * never runs beside another of the same check (the scheduler skips a slot
 * while one is in flight). A reload builds new specs, so every check starts
 * measuring afresh after it. */
struct ys_dnsprop_track {
    bool has_converged;       /* some probe saw every server agree */
    uint64_t converged_fp;    /* the state they last agreed on */
    int64_t disagree_since_us; /* start of the first probe of the current disagreement; 0 none */
    size_t n_seen;
    struct {
        uint64_t fp;
        int64_t first_us; /* start of the first probe in which any server returned it */
    } seen[YS_DNSPROP_SEEN_MAX];
};

struct ys_dnsprop_spec {
    char *query;    /* the record's name */
    int type;       /* enum ys_dns_type, default A */
    struct ys_strlist servers; /* normalised "ip:port" / "[v6]:port" */
    char *zone;     /* NULL: no SOA comparison and no discovery */
    bool discover_ns;
    int discover_port; /* the port discovered NS addresses are asked on; 53 */
    bool recursion;
    char *expect;   /* NULL: any state everyone agrees on passes */
    int64_t max_lag_ms; /* 0: disagreement alone never fails */
    struct ys_dnsprop_track track; /* loop thread only */
};

/* One server's answer in one probe, the input of ys_dnsprop_evaluate. */
struct ys_dnsprop_view {
    const char *server;  /* borrowed */
    bool ok;             /* NOERROR or NXDOMAIN to both questions */
    enum ys_errclass ec; /* !ok: why */
    char error[96];      /* !ok: a short reason */
    char *answers;       /* ok: canonical answer set (ys_dnsprop_answers_join); owned */
    bool has_serial;
    uint32_t serial;
    bool lags;           /* out: set by ys_dnsprop_evaluate when every server
                          * answered and this one's state is not the newest */
};

/* The keys of a dns_propagation check besides the common ones. */
extern const char *const ys_dnsprop_keys[];

/* ys_probe_type.parse: fills an owned struct ys_dnsprop_spec (free with
 * ys_dnsprop_spec_free); reports every problem; 0 or YS_ECONFIG. */
int ys_dnsprop_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                          struct ys_diag *d);
/* NULL is a no-op. */
void ys_dnsprop_spec_free(void *spec);

/* Whether two answer values name the same thing: case-insensitive, a
 * trailing dot ignored ("ns1.Example.org." == "ns1.example.org"). */
bool ys_dnsprop_value_eq(const char *a, const char *b);

/* The canonical form of a response's answer set: the values sorted and
 * joined by ", ", "NXDOMAIN" for a name that does not exist, "" for no
 * answers. Returns owned text (free). */
char *ys_dnsprop_answers_join(const struct ys_dns_response *r);

/* Whether the canonical answer set contains value (ys_dnsprop_value_eq). */
bool ys_dnsprop_answers_have(const char *answers, const char *value);

/* The verdict over one probe: whether all n servers agree, which lag, the
 * propagation sample when a new state has just reached every server (the
 * result's value, seconds), and the max_lag and expect assertions. Updates
 * s->track and each view's lags. now_us is the probe's start (monotonic).
 * Fills r's ok, errclass, message, value and flags (not its facts). Loop
 * thread (it mutates the spec). */
void ys_dnsprop_evaluate(struct ys_dnsprop_spec *s, struct ys_dnsprop_view *v, size_t n,
                         int64_t now_us, struct ys_result *r);

#endif
