/*
 * dns_client.h - one DNS question to one server, asynchronously on the
 * libuv loop, through c-ares (UDP, with TCP when the answer is truncated).
 *
 * Shared by the dns, dns_propagation and dns_records kinds and by
 * `yardstick dns wait`. A query owns a c-ares channel configured with the
 * single server it asks, so every server's answer and response time is
 * measured on its own. Loop thread only.
 *
 * Contract: if ys_dns_query returns 0, cb runs exactly once, later, unless
 * ys_dns_query_cancel is called first (then never). The response passed to
 * cb is borrowed for the call.
 */
#ifndef YS_PROBE_DNS_CLIENT_H
#define YS_PROBE_DNS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Record types the kinds accept (values are the DNS type codes). */
enum ys_dns_type {
    YS_DNS_A = 1, YS_DNS_NS = 2, YS_DNS_CNAME = 5, YS_DNS_SOA = 6, YS_DNS_MX = 15,
    YS_DNS_TXT = 16, YS_DNS_AAAA = 28, YS_DNS_SRV = 33, YS_DNS_CAA = 257
};
/* "A" -> YS_DNS_A etc. (case-insensitive); returns 0 or YS_EINVAL. */
int ys_dns_type_parse(const char *s, int *type);
const char *ys_dns_type_name(int type);

struct ys_dns_answer {
    int type;
    uint32_t ttl;
    char value[512]; /* presentation form: "192.0.2.10", "10 mx.example.org.", "\"v=spf1 ...\"" */
};

struct ys_dns_response {
    int rcode;          /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
    bool used_tcp;      /* the UDP answer was truncated and TCP was used */
    size_t n;           /* answers of the asked type (CNAME chain entries included) */
    struct ys_dns_answer *v;
    bool has_soa;       /* an SOA was in the answer or authority section */
    uint32_t soa_serial;
    int64_t rtt_us;     /* from sending to the answer, monotonic */
};

enum ys_dns_status {
    YS_DNS_OK = 0,      /* a response arrived (check rcode) */
    YS_DNS_TIMEOUT,     /* no answer within the timeout */
    YS_DNS_REFUSED,     /* connection refused / unreachable (ICMP or TCP) */
    YS_DNS_BADRESP,     /* malformed response */
    YS_DNS_ERROR        /* anything else; see message */
};

struct ys_dns_query;
typedef void (*ys_dns_query_cb)(enum ys_dns_status status, const struct ys_dns_response *resp,
                                const char *message, void *arg);

struct ys_dns_question {
    const char *server;  /* "host:port", "[v6]:port" or "ip" (port 53); IP literals only */
    const char *name;    /* "www.example.org" */
    int type;            /* enum ys_dns_type */
    bool recursion;      /* RD bit */
    int64_t timeout_ms;
};

/* Checks a server string ("1.2.3.4", "1.2.3.4:53", "[2001:db8::1]:53",
 * "2001:db8::1"; IP literals only, port 53 by default) and writes its
 * canonical form ("1.2.3.4:53", "[2001:db8::1]:53") into canon. Returns 0,
 * YS_EINVAL or YS_ETOOBIG (canon too small; 56 bytes always suffice). */
int ys_dns_server_parse(const char *s, char *canon, size_t size);

int ys_dns_query_start(uv_loop_t *loop, const struct ys_dns_question *q, ys_dns_query_cb cb,
                       void *arg, struct ys_dns_query **out);
void ys_dns_query_cancel(struct ys_dns_query *q);

/* Parses a raw DNS response message (for the fuzz target and the client):
 * fills out (answers of type qtype, SOA serial, rcode). Returns 0 or
 * YS_EINVAL on a malformed message; never reads past len. Free with
 * ys_dns_response_free. */
int ys_dns_response_parse(const unsigned char *buf, size_t len, int qtype,
                          struct ys_dns_response *out);
void ys_dns_response_free(struct ys_dns_response *r);

#endif
