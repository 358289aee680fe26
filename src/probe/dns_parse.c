/*
 * dns_parse.c - a DNS response message turned into presentation-form
 * answers, the rcode and the SOA serial (ys_dns_response_parse in
 * dns_client.h), plus the type-name table.
 *
 * Hand-written rather than c-ares's parsers: c-ares 1.18's ares_parse_*
 * functions each understand one record type, fail the whole message on
 * NXDOMAIN or an empty answer, and hide the rcode and the authority section,
 * while the dns kinds need all three (an NXDOMAIN's SOA serial included).
 *
 * The input comes from the network, so every read is checked against len:
 * a count larger than the records present, an rdata that runs past the end,
 * a name longer than 255 bytes or a compression pointer that does not point
 * strictly backwards (which rules out loops) all make the message malformed
 * (YS_EINVAL). Values longer than an answer's buffer are cut and end in
 * "...", so a 4096-bit DKIM key still reads as a (shortened) answer.
 *
 * Pure functions; any thread.
 */
#include "probe/dns_client.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int type;
} type_names[] = {
    {"A", YS_DNS_A},     {"AAAA", YS_DNS_AAAA}, {"CNAME", YS_DNS_CNAME},
    {"TXT", YS_DNS_TXT}, {"MX", YS_DNS_MX},     {"NS", YS_DNS_NS},
    {"SOA", YS_DNS_SOA}, {"CAA", YS_DNS_CAA},   {"SRV", YS_DNS_SRV},
};

#define N_TYPES (sizeof type_names / sizeof type_names[0])
#define HEADER_LEN 12
#define NAME_MAX_WIRE 255

int ys_dns_type_parse(const char *s, int *type)
{
    for (size_t i = 0; i < N_TYPES; i++) {
        if (strcasecmp(s, type_names[i].name) == 0) {
            *type = type_names[i].type;
            return 0;
        }
    }
    return YS_EINVAL;
}

const char *ys_dns_type_name(int type)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    return "?";
}

/* ---- a capped output buffer ------------------------------------------- */

struct out {
    char *p;
    size_t cap, len;
    bool full;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
    if (o->full)
        return;
    if (o->len + n + 4 > o->cap) { /* keep room for "..." and the NUL */
        o->full = true;
        memcpy(o->p + o->len, "...", 4);
        o->len += 3;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put_raw(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* One byte of a label or character-string, escaped as in zone files. */
static void put_char(struct out *o, unsigned char c, const char *special)
{
    if (c < 0x21 || c > 0x7e)
        put(o, "\\%03u", c);
    else if (strchr(special, c))
        put(o, "\\%c", c);
    else
        put_raw(o, (const char *)&c, 1);
}

/* ---- reading ---------------------------------------------------------- */

struct msg {
    const unsigned char *b;
    size_t len;
};

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the name at *pos, writing it (if o) in presentation form with a
 * trailing dot, and moves *pos past its in-place bytes. Pointers must point
 * strictly backwards, so each jump lands earlier and loops are impossible. */
static int read_name(const struct msg *m, size_t *pos, struct out *o)
{
    size_t at = *pos, wire = 0;
    bool jumped = false;
    size_t limit = *pos; /* a pointer must target an offset below this */
    for (;;) {
        if (at >= m->len)
            return YS_EINVAL;
        unsigned char c = m->b[at];
        if ((c & 0xc0) == 0xc0) {
            if (at + 1 >= m->len)
                return YS_EINVAL;
            size_t to = (size_t)(c & 0x3f) << 8 | m->b[at + 1];
            if (to >= limit || to >= at)
                return YS_EINVAL;
            if (!jumped)
                *pos = at + 2;
            jumped = true;
            limit = to;
            at = to;
            continue;
        }
        if (c & 0xc0)
            return YS_EINVAL; /* 0x40 and 0x80 label types are obsolete */
        wire += (size_t)c + 1;
        if (wire > NAME_MAX_WIRE || at + 1 + c > m->len)
            return YS_EINVAL;
        if (c == 0) {
            if (!jumped)
                *pos = at + 1;
            if (o && wire == 1)
                put_raw(o, ".", 1);
            return 0;
        }
        for (size_t i = 0; o && i < c; i++)
            put_char(o, m->b[at + 1 + i], ".\\\"();");
        if (o)
            put_raw(o, ".", 1);
        at += 1 + (size_t)c;
    }
}

/* Writes one <character-string> quoted; *pos moves past it. */
static int read_string(const struct msg *m, size_t *pos, size_t end, struct out *o)
{
    if (*pos >= end)
        return YS_EINVAL;
    size_t n = m->b[*pos];
    if (*pos + 1 + n > end)
        return YS_EINVAL;
    put_raw(o, "\"", 1);
    for (size_t i = 0; i < n; i++)
        put_char(o, m->b[*pos + 1 + i], "\"\\");
    put_raw(o, "\"", 1);
    *pos += 1 + n;
    return 0;
}

/* A name that must end exactly at end (CNAME, NS, the tail of MX, SRV). */
static int rdata_name(const struct msg *m, size_t pos, size_t end, struct out *o)
{
    if (read_name(m, &pos, o) < 0 || pos != end)
        return YS_EINVAL;
    return 0;
}

static int rdata_txt(const struct msg *m, size_t pos, size_t end, struct out *o)
{
    if (pos == end) {
        put_raw(o, "\"\"", 2);
        return 0;
    }
    for (bool first = true; pos < end; first = false) {
        if (!first)
            put_raw(o, " ", 1);
        if (read_string(m, &pos, end, o) < 0)
            return YS_EINVAL;
    }
    return 0;
}

static int rdata_soa(const struct msg *m, size_t pos, size_t end, struct out *o)
{
    if (read_name(m, &pos, o) < 0)
        return YS_EINVAL;
    put_raw(o, " ", 1);
    if (read_name(m, &pos, o) < 0 || pos + 20 != end)
        return YS_EINVAL;
    for (int i = 0; i < 5; i++)
        put(o, " %u", rd32(m->b + pos + 4 * (size_t)i));
    return 0;
}

static int rdata_caa(const struct msg *m, size_t pos, size_t end, struct out *o)
{
    if (pos + 2 > end)
        return YS_EINVAL;
    size_t taglen = m->b[pos + 1];
    if (taglen == 0 || pos + 2 + taglen > end)
        return YS_EINVAL;
    put(o, "%u ", m->b[pos]);
    for (size_t i = 0; i < taglen; i++)
        put_char(o, m->b[pos + 2 + i], "\"\\");
    put_raw(o, " \"", 2);
    for (size_t i = pos + 2 + taglen; i < end; i++)
        put_char(o, m->b[i], "\"\\");
    put_raw(o, "\"", 1);
    return 0;
}

/* Writes the rdata of a record of type at [pos, end) in presentation form.
 * Returns 0, 1 for a type we do not present, or YS_EINVAL. */
static int rdata_format(const struct msg *m, int type, size_t pos, size_t end, struct out *o)
{
    size_t rdlen = end - pos;
    char ip[INET6_ADDRSTRLEN];
    switch (type) {
    case YS_DNS_A:
    case YS_DNS_AAAA:
        if (rdlen != (type == YS_DNS_A ? 4u : 16u))
            return YS_EINVAL;
        inet_ntop(type == YS_DNS_A ? AF_INET : AF_INET6, m->b + pos, ip, sizeof ip);
        put_raw(o, ip, strlen(ip));
        return 0;
    case YS_DNS_CNAME:
    case YS_DNS_NS:
        return rdata_name(m, pos, end, o);
    case YS_DNS_MX:
        if (rdlen < 3)
            return YS_EINVAL;
        put(o, "%u ", rd16(m->b + pos));
        return rdata_name(m, pos + 2, end, o);
    case YS_DNS_SRV:
        if (rdlen < 7)
            return YS_EINVAL;
        put(o, "%u %u %u ", rd16(m->b + pos), rd16(m->b + pos + 2), rd16(m->b + pos + 4));
        return rdata_name(m, pos + 6, end, o);
    case YS_DNS_TXT: return rdata_txt(m, pos, end, o);
    case YS_DNS_SOA: return rdata_soa(m, pos, end, o);
    case YS_DNS_CAA: return rdata_caa(m, pos, end, o);
    default: return 1;
    }
}

/* ---- the message ------------------------------------------------------- */

static struct ys_dns_answer *add_answer(struct ys_dns_response *r, size_t *cap)
{
    if (r->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        r->v = ys_xrealloc(r->v, *cap * sizeof *r->v);
    }
    struct ys_dns_answer *a = &r->v[r->n++];
    memset(a, 0, sizeof *a);
    return a;
}

/* Reads one resource record at *pos of section sec (0 answer, 1 authority,
 * 2 additional), keeping what the caller asked for. */
static int read_rr(const struct msg *m, size_t *pos, int sec, int qtype,
                   struct ys_dns_response *r, size_t *cap)
{
    if (read_name(m, pos, NULL) < 0 || *pos + 10 > m->len)
        return YS_EINVAL;
    const unsigned char *h = m->b + *pos;
    int type = rd16(h);
    uint32_t ttl = rd32(h + 4);
    size_t rdlen = rd16(h + 8);
    size_t start = *pos + 10, end = start + rdlen;
    if (end > m->len)
        return YS_EINVAL;
    *pos = end;
    if (type == YS_DNS_SOA && sec < 2 && !r->has_soa) {
        size_t p = start;
        if (read_name(m, &p, NULL) < 0 || read_name(m, &p, NULL) < 0 || p + 20 != end)
            return YS_EINVAL;
        r->has_soa = true;
        r->soa_serial = rd32(m->b + p);
    }
    if (sec != 0 || (type != qtype && type != YS_DNS_CNAME))
        return 0;
    struct ys_dns_answer *a = add_answer(r, cap);
    a->type = type;
    a->ttl = ttl;
    struct out o = {a->value, sizeof a->value, 0, false};
    a->value[0] = '\0';
    int rc = rdata_format(m, type, start, end, &o);
    return rc < 0 ? rc : 0;
}

int ys_dns_response_parse(const unsigned char *buf, size_t len, int qtype,
                          struct ys_dns_response *out)
{
    memset(out, 0, sizeof *out);
    struct msg m = {buf, len};
    if (!buf || len < HEADER_LEN)
        return YS_EINVAL;
    if (!(buf[2] & 0x80))
        return YS_EINVAL; /* QR clear: a query, not a response */
    out->rcode = buf[3] & 0x0f;
    size_t qd = rd16(buf + 4), counts[3] = {rd16(buf + 6), rd16(buf + 8), rd16(buf + 10)};
    size_t pos = HEADER_LEN, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < qd && rc == 0; i++) {
        rc = read_name(&m, &pos, NULL);
        if (rc == 0 && (pos += 4) > len)
            rc = YS_EINVAL;
    }
    for (int sec = 0; sec < 3 && rc == 0; sec++)
        for (size_t i = 0; i < counts[sec] && rc == 0; i++)
            rc = read_rr(&m, &pos, sec, qtype, out, &cap);
    if (rc < 0)
        ys_dns_response_free(out);
    return rc;
}

void ys_dns_response_free(struct ys_dns_response *r)
{
    if (!r)
        return;
    free(r->v);
    r->v = NULL;
    r->n = 0;
}
