/*
 * test_dns_parse.c - the DNS response parser (src/probe/dns_parse.c) on
 * hand-built messages: every record type in presentation form, name
 * compression, compression loops and forward pointers, truncated messages,
 * counts larger than the records present, NXDOMAIN with the SOA in the
 * authority section, and a TXT value longer than an answer's buffer.
 *
 * Every message asks about "a.b" (offset 12), so answers point at it with
 * 0xc0 0x0c.
 */
#include "core/err.h"
#include "probe/dns_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

/* The table leaves trailing fields of malformed cases at zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* Header: id, flags, then QD=1 and the given AN, NS, AR counts. */
#define HDR(fl_hi, fl_lo, an, ns, ar) 0x12, 0x34, fl_hi, fl_lo, 0, 1, 0, an, 0, ns, 0, ar
#define RESP(an) HDR(0x81, 0x80, an, 0, 0)
/* The question a.b, of type th:tl, class IN. */
#define Q(th, tl) 1, 'a', 1, 'b', 0, th, tl, 0, 1
/* An RR owned by a.b (pointer), TTL 300, of type th:tl and rdlen. */
#define RR(th, tl, rdlen) 0xc0, 0x0c, th, tl, 0, 1, 0, 0, 0x01, 0x2c, 0, rdlen

struct pcase {
    const char *what;
    const unsigned char *msg;
    size_t len;
    int qtype;
    int rc;
    int rcode;
    size_t n;
    const char *values[3];
    bool has_soa;
    uint32_t serial;
};

#define M(...) (const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__})

static const struct pcase cases[] = {
    {"A", M(RESP(1), Q(0, 1), RR(0, 1, 4), 192, 0, 2, 1), YS_DNS_A, 0, 0, 1, {"192.0.2.1"}},
    {"AAAA",
     M(RESP(1), Q(0, 28), RR(0, 28, 16), 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
       1),
     YS_DNS_AAAA, 0, 0, 1, {"2001:db8::1"}},
    {"multi A",
     M(RESP(2), Q(0, 1), RR(0, 1, 4), 192, 0, 2, 1, RR(0, 1, 4), 192, 0, 2, 2), YS_DNS_A, 0, 0,
     2, {"192.0.2.1", "192.0.2.2"}},
    {"CNAME compressed", M(RESP(1), Q(0, 5), RR(0, 5, 6), 3, 'w', 'w', 'w', 0xc0, 0x0c),
     YS_DNS_CNAME, 0, 0, 1, {"www.a.b."}},
    {"CNAME chain kept when asking A",
     M(RESP(2), Q(0, 1), RR(0, 5, 4), 1, 'c', 0xc0, 0x0c, 0xc0, 0x21, 0, 1, 0, 1, 0, 0, 0, 60, 0,
       4, 10, 0, 0, 1),
     YS_DNS_A, 0, 0, 2, {"c.a.b.", "10.0.0.1"}},
    {"NS uncompressed", M(RESP(1), Q(0, 2), RR(0, 2, 6), 2, 'n', 's', 1, 'x', 0), YS_DNS_NS, 0,
     0, 1, {"ns.x."}},
    {"MX", M(RESP(1), Q(0, 15), RR(0, 15, 7), 0, 10, 2, 'm', 'x', 0xc0, 0x0c), YS_DNS_MX, 0, 0,
     1, {"10 mx.a.b."}},
    {"TXT two strings, escapes",
     M(RESP(1), Q(0, 16), RR(0, 16, 8), 2, 'h', 'i', 4, 'q', '"', '\\', 1), YS_DNS_TXT, 0, 0, 1,
     {"\"hi\" \"q\\\"\\\\\\001\""}},
    {"SRV to the root", M(RESP(1), Q(0, 33), RR(0, 33, 7), 0, 1, 0, 2, 0, 80, 0), YS_DNS_SRV, 0,
     0, 1, {"1 2 80 ."}},
    {"CAA",
     M(RESP(1), Q(1, 1), RR(1, 1, 13), 0, 5, 'i', 's', 's', 'u', 'e', 'c', 'a', '.', 'o', 'r',
       'g'),
     YS_DNS_CAA, 0, 0, 1, {"0 issue \"ca.org\""}},
    {"SOA answer",
     M(RESP(1), Q(0, 6), RR(0, 6, 29), 2, 'n', 's', 0xc0, 0x0c, 1, 'h', 0xc0, 0x0c, 0, 0, 0, 7, 0,
       0, 0x0e, 0x10, 0, 0, 2, 0x58, 0, 1, 0x51, 0x80, 0, 0, 1, 0x2c),
     YS_DNS_SOA, 0, 0, 1, {"ns.a.b. h.a.b. 7 3600 600 86400 300"}, true, 7},
    {"NXDOMAIN, SOA in authority",
     M(HDR(0x81, 0x83, 0, 1, 0), Q(0, 1), RR(0, 6, 26), 0xc0, 0x0c, 1, 'h', 0xc0, 0x0c, 0x78, 0x56,
       0x34, 0x12, 0, 0, 0x0e, 0x10, 0, 0, 2, 0x58, 0, 1, 0x51, 0x80, 0, 0, 1, 0x2c),
     YS_DNS_A, 0, 3, 0, {NULL}, true, 0x78563412},
    {"other types in the answer are skipped",
     M(RESP(2), Q(0, 1), RR(0, 99, 2), 1, 'x', RR(0, 1, 4), 1, 2, 3, 4), YS_DNS_A, 0, 0, 1,
     {"1.2.3.4"}},
    {"SERVFAIL, empty", M(HDR(0x81, 0x82, 0, 0, 0), Q(0, 1)), YS_DNS_A, 0, 2, 0, {NULL}},
    /* Malformed. */
    {"short header", M(0x12, 0x34, 0x81, 0x80, 0, 1), YS_DNS_A, YS_EINVAL},
    {"a query, not a response", M(HDR(0x01, 0x00, 0, 0, 0), Q(0, 1)), YS_DNS_A, YS_EINVAL},
    {"question cut", M(RESP(0), 1, 'a', 1), YS_DNS_A, YS_EINVAL},
    {"question type cut", M(RESP(0), 1, 'a', 0, 0), YS_DNS_A, YS_EINVAL},
    {"rdata cut", M(RESP(1), Q(0, 1), RR(0, 1, 4), 192, 0), YS_DNS_A, YS_EINVAL},
    {"RR header cut", M(RESP(1), Q(0, 1), 0xc0, 0x0c, 0, 1, 0), YS_DNS_A, YS_EINVAL},
    {"answer count too large", M(RESP(2), Q(0, 1), RR(0, 1, 4), 192, 0, 2, 1), YS_DNS_A,
     YS_EINVAL},
    {"authority count too large", M(HDR(0x81, 0x83, 0, 3, 0), Q(0, 1)), YS_DNS_A, YS_EINVAL},
    {"A of 5 bytes", M(RESP(1), Q(0, 1), RR(0, 1, 5), 1, 2, 3, 4, 5), YS_DNS_A, YS_EINVAL},
    {"pointer to itself", M(RESP(1), Q(0, 1), 0xc0, 0x15, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4),
     YS_DNS_A, YS_EINVAL},
    {"forward pointer",
     M(RESP(1), Q(0, 1), 0xc0, 0x30, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4), YS_DNS_A,
     YS_EINVAL},
    {"two-pointer loop in CNAME",
     M(RESP(1), Q(0, 5), RR(0, 5, 4), 0xc0, 0x21, 0xc0, 0x1f), YS_DNS_CNAME, YS_EINVAL},
    {"pointer past the end", M(RESP(1), Q(0, 1), 0xc0), YS_DNS_A, YS_EINVAL},
    {"label type 0x40", M(RESP(1), Q(0, 1), 0x41, 'x', 0), YS_DNS_A, YS_EINVAL},
    {"CNAME rdata longer than its name",
     M(RESP(1), Q(0, 5), RR(0, 5, 4), 1, 'c', 0, 9), YS_DNS_CNAME, YS_EINVAL},
    {"TXT string past rdata", M(RESP(1), Q(0, 16), RR(0, 16, 3), 5, 'a', 'b'), YS_DNS_TXT,
     YS_EINVAL},
    {"SOA too short", M(RESP(1), Q(0, 6), RR(0, 6, 6), 0xc0, 0x0c, 0xc0, 0x0c, 0, 1), YS_DNS_SOA,
     YS_EINVAL},
    {"CAA empty tag", M(RESP(1), Q(1, 1), RR(1, 1, 3), 0, 0, 'x'), YS_DNS_CAA, YS_EINVAL},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct pcase *c = &cases[i];
        struct ys_dns_response r;
        int rc = ys_dns_response_parse(c->msg, c->len, c->qtype, &r);
        if (rc != c->rc)
            fail_msg("%s: rc %d, expected %d", c->what, rc, c->rc);
        if (rc < 0) {
            assert_null(r.v);
            continue;
        }
        if (r.rcode != c->rcode || r.n != c->n || r.has_soa != c->has_soa ||
            (c->has_soa && r.soa_serial != c->serial))
            fail_msg("%s: rcode %d n %zu soa %d/%u", c->what, r.rcode, r.n, r.has_soa,
                     r.soa_serial);
        for (size_t k = 0; k < c->n; k++) {
            if (strcmp(r.v[k].value, c->values[k]) != 0)
                fail_msg("%s: answer %zu is '%s', expected '%s'", c->what, k, r.v[k].value,
                         c->values[k]);
        }
        if (c->n > 0 && r.v[0].type == c->qtype)
            assert_int_equal(r.v[0].ttl, 300);
        ys_dns_response_free(&r);
    }
}

/* Every prefix of a good message is malformed, never read past its end
 * (valgrind and ASan watch the reads: each prefix is its own allocation). */
static void test_every_prefix(void **state)
{
    (void)state;
    const struct pcase *soa = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(cases[i].what, "NXDOMAIN, SOA in authority") == 0)
            soa = &cases[i];
    assert_non_null(soa);
    for (size_t len = 0; len < soa->len; len++) {
        unsigned char *cut = test_malloc(len ? len : 1);
        memcpy(cut, soa->msg, len);
        struct ys_dns_response r;
        assert_int_equal(ys_dns_response_parse(cut, len, YS_DNS_A, &r), YS_EINVAL);
        test_free(cut);
    }
}

/* A 600-byte TXT string is cut to the answer's buffer and ends in "...". */
static void test_long_txt(void **state)
{
    (void)state;
    unsigned char msg[12 + 9 + 12 + 3 * 201];
    const unsigned char head[] = {RESP(1), Q(0, 16), RR(0, 16, 0)};
    memcpy(msg, head, sizeof head);
    msg[sizeof head - 2] = (3 * 201) >> 8;
    msg[sizeof head - 1] = (3 * 201) & 0xff;
    for (int s = 0; s < 3; s++) {
        msg[sizeof head + 201 * (size_t)s] = 200;
        memset(msg + sizeof head + 201 * (size_t)s + 1, 'k', 200);
    }
    struct ys_dns_response r;
    assert_int_equal(ys_dns_response_parse(msg, sizeof msg, YS_DNS_TXT, &r), 0);
    assert_int_equal(r.n, 1);
    size_t len = strlen(r.v[0].value);
    assert_true(len < sizeof r.v[0].value);
    assert_true(len > 400);
    assert_string_equal(r.v[0].value + len - 3, "...");
    ys_dns_response_free(&r);
}

static void test_type_names(void **state)
{
    (void)state;
    static const char *names[] = {"A", "aaaa", "CNAME", "txt", "MX", "NS", "SOA", "CAA", "srv"};
    static const int types[] = {1, 28, 5, 16, 15, 2, 6, 257, 33};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int t = 0;
        assert_int_equal(ys_dns_type_parse(names[i], &t), 0);
        assert_int_equal(t, types[i]);
        assert_true(strcasecmp(ys_dns_type_name(t), names[i]) == 0);
    }
    int t = -1;
    assert_int_equal(ys_dns_type_parse("PTR", &t), YS_EINVAL);
    assert_int_equal(t, -1);
}

static void test_server_parse(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"1.2.3.4", "1.2.3.4:53"},
        {"1.2.3.4:5353", "1.2.3.4:5353"},
        {"[2001:DB8::1]:53", "[2001:db8::1]:53"},
        {"[::1]", "[::1]:53"},
        {"::1", "[::1]:53"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char canon[64];
        assert_int_equal(ys_dns_server_parse(ok[i].in, canon, sizeof canon), 0);
        assert_string_equal(canon, ok[i].out);
    }
    static const char *bad[] = {"",           "dns.google", "1.2.3.4:0",  "1.2.3.4:65536",
                                "1.2.3.4:x",  "[::1",       "[::1]x",     "1.2.3:53",
                                "1.2.3.4:-1", "[1.2.3.4]:53"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char canon[64];
        if (ys_dns_server_parse(bad[i], canon, sizeof canon) != YS_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),       cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_long_txt),    cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_server_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
