/*
 * dns_spec.h - the parsed fields of `kind: dns` and `kind: dns_records`
 * checks, and the assertions on one server's response.
 *
 *   - name: www
 *     kind: dns
 *     query: www.example.org        # required
 *     type: A                       # A AAAA CNAME TXT MX NS SOA CAA SRV
 *     servers: ["1.1.1.1:53", "[2606:4700::1111]:53"]   # required, IP literals
 *     recursion: true               # the RD bit
 *     expect: ["192.0.2.10"]        # shorthand for expect: { answers: [...] }
 *     expect: { rcode: NOERROR, answers: [..], contains: [..], min_ttl: 60,
 *               max_ttl: 3600, soa_serial_min: 2024010101, max_response_time: 200ms }
 *
 *   - name: records
 *     kind: dns_records
 *     servers: ["192.0.2.53"]
 *     min_percent: 100
 *     records: [ { name: www.example.org, type: CNAME, value: tunnel.example.net } ]
 */
#ifndef YS_PROBE_DNS_SPEC_H
#define YS_PROBE_DNS_SPEC_H

#include "config/read.h"
#include "probe/dns_client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_node;
struct ys_diag;
struct ys_check;

/* What a dns check asserts on each server's response. */
struct ys_dns_expect {
    int rcode;                 /* default 0 (NOERROR) */
    bool has_answers;          /* answers given: equal as a set */
    struct ys_strlist answers; /* normalised values */
    struct ys_strlist contains;
    int64_t min_ttl, max_ttl; /* seconds; -1 when not given */
    bool has_soa_serial_min;
    uint32_t soa_serial_min;
    int64_t max_response_ms; /* -1 when not given */
};

struct ys_dns_spec {
    char *query;
    int type;
    struct ys_strlist servers; /* canonical "ip:port" / "[v6]:port" */
    bool recursion;
    struct ys_dns_expect expect;
};

/* One expected record of a dns_records check. */
struct ys_dns_record {
    char *name;
    int type;
    char *value; /* normalised */
    size_t question; /* index into ys_dns_records_spec.questions */
};

/* A distinct (name, type) asked of every server. */
struct ys_dns_rq {
    const char *name; /* borrows from a record */
    int type;
};

struct ys_dns_records_spec {
    struct ys_strlist servers;
    bool recursion;
    double min_percent; /* 0..100, default 100 */
    size_t n;
    struct ys_dns_record *v;
    size_t nq;
    struct ys_dns_rq *questions;
};

extern const char *const ys_dns_keys[];
extern const char *const ys_dns_records_keys[];

/* ys_probe_type.parse for dns and dns_records: every problem is reported
 * with its position; returns 0 or YS_ECONFIG (and *spec NULL). */
int ys_dns_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d);
void ys_dns_spec_free(void *spec);
int ys_dns_records_spec_parse(const struct ys_node *check, const struct ys_check *base,
                              void **spec, struct ys_diag *d);
void ys_dns_records_spec_free(void *spec);

/* Reads check's `servers` (required; a string or a list of IP literals with
 * optional ports) into canonical "ip:port" strings; where names the check
 * in a "missing" message. Shared with dns_propagation. */
int ys_dns_parse_servers(const struct ys_node *check, const char *where, struct ys_strlist *out,
                         struct ys_diag *d);
/* Reads a record type node (NULL: *type untouched). */
int ys_dns_parse_type(const struct ys_node *n, int *type, struct ys_diag *d);

/* "NOERROR" -> 0 ... "REFUSED" -> 5 (case-insensitive); 0 or YS_EINVAL. */
int ys_dns_rcode_parse(const char *s, int *rcode);
/* "NOERROR", "NXDOMAIN", ... or "RCODE<n>" in buf. */
const char *ys_dns_rcode_name(int rcode, char *buf, size_t size);

/* Writes the form a value of type takes in answers (trailing dot on names,
 * TXT quoted, addresses canonical) into out. Returns 0 or YS_EINVAL when
 * the value cannot be of that type (an A value that is not an IPv4 address). */
int ys_dns_value_normalize(int type, const char *in, char *out, size_t size);
/* Whether two normalised values are the same (names case-insensitively). */
bool ys_dns_value_equal(int type, const char *a, const char *b);

/* Checks resp against e for a question of qtype. Returns YS_EC_NONE, or
 * the failure's class with a sentence in msg. */
int ys_dns_expect_eval(const struct ys_dns_expect *e, int qtype,
                       const struct ys_dns_response *resp, char *msg, size_t size);

#endif
