/*
 * test_dns_facts.c - the per-server facts of the dns kinds
 * (src/probe/dns_facts.c): the shape of one response's facts (rcode name,
 * ms, answers in order, lowest TTL, serial only when asked, tcp), a server
 * without a response, and trimming to the result's buffer: many long
 * answers lose answers from the end and gain "more", many servers lose
 * whole objects and end in {"more": true}; the text is always whole JSON
 * that fits, whatever the number and length of answers.
 */
#include "core/err.h"
#include "core/result.h"
#include "probe/dns_facts.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A response with n answers "v<i>-xxx..." padded to len characters, of
 * TTLs spread over 300..1299 in no order. */
static void fill(struct ys_dns_response *r, size_t n, size_t len, int type)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->v = calloc(n ? n : 1, sizeof *r->v);
    assert_non_null(r->v);
    for (size_t i = 0; i < n; i++) {
        r->v[i].type = type;
        r->v[i].ttl = (uint32_t)(300 + (i * 7919) % 1000);
        int k = snprintf(r->v[i].value, sizeof r->v[i].value, "v%zu-", i);
        while ((size_t)k < len && (size_t)k < sizeof r->v[i].value - 1)
            r->v[i].value[k++] = 'x';
        r->v[i].value[k] = '\0';
    }
    r->rtt_us = 1234;
}

/* Dumps arr into a result-sized buffer, checks it is whole JSON that
 * fits, and returns it parsed (new reference). */
static json_t *dump_and_parse(json_t *arr, char *out)
{
    assert_int_equal(ys_dns_facts_dump(arr, out, YS_RESULT_FACTS_MAX), 0);
    assert_true(strlen(out) < YS_RESULT_FACTS_MAX);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    if (!doc)
        fail_msg("not JSON (%s): %s", e.text, out);
    assert_true(json_is_array(doc));
    return doc;
}

static void test_one_response(void **state)
{
    (void)state;
    struct ys_dns_response r;
    fill(&r, 2, 0, YS_DNS_A);
    snprintf(r.v[0].value, sizeof r.v[0].value, "192.0.2.10");
    snprintf(r.v[1].value, sizeof r.v[1].value, "192.0.2.11");
    r.v[0].ttl = 600;
    r.v[1].ttl = 300;
    r.has_soa = true;
    r.soa_serial = 2026112901;
    r.rtt_us = 1234;
    char out[YS_RESULT_FACTS_MAX];
    json_t *arr = json_array();
    json_array_append_new(arr, ys_dns_facts_response("127.0.0.1:5300", &r, false));
    json_array_append_new(arr, ys_dns_facts_error("[::1]:53", "timeout"));
    assert_int_equal(ys_dns_facts_dump(arr, out, sizeof out), 0);
    assert_string_equal(out, "[{\"server\":\"127.0.0.1:5300\",\"rcode\":\"NOERROR\",\"ms\":1.234,"
                             "\"answers\":[\"192.0.2.10\",\"192.0.2.11\"],\"ttl\":300},"
                             "{\"server\":\"[::1]:53\",\"error\":\"timeout\"}]");
    json_decref(arr);

    /* The serial where asked, the rcode's name, no ttl without answers,
     * and TCP when the UDP answer was truncated. */
    r.n = 0;
    r.rcode = 3;
    r.used_tcp = true;
    arr = json_array();
    json_array_append_new(arr, ys_dns_facts_response("192.0.2.53:53", &r, true));
    assert_int_equal(ys_dns_facts_dump(arr, out, sizeof out), 0);
    assert_string_equal(out, "[{\"server\":\"192.0.2.53:53\",\"rcode\":\"NXDOMAIN\",\"ms\":1.234,"
                             "\"answers\":[],\"serial\":2026112901,\"tcp\":true}]");
    json_decref(arr);
    r.rcode = 9;
    arr = json_array();
    json_array_append_new(arr, ys_dns_facts_response("192.0.2.53:53", &r, true));
    assert_int_equal(ys_dns_facts_dump(arr, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"rcode\":\"RCODE9\""));
    json_decref(arr);
    ys_dns_response_free(&r);
}

/* Many long answers on two servers: the first server keeps all of its
 * few, the second keeps a prefix of its own in order and says "more". */
static void test_many_long_answers(void **state)
{
    (void)state;
    struct ys_dns_response a, b;
    fill(&a, 2, 20, YS_DNS_TXT);
    fill(&b, 200, 120, YS_DNS_TXT);
    json_t *arr = json_array();
    json_array_append_new(arr, ys_dns_facts_response("127.0.0.1:1", &a, false));
    json_array_append_new(arr, ys_dns_facts_response("127.0.0.1:2", &b, false));
    char out[YS_RESULT_FACTS_MAX];
    json_t *doc = dump_and_parse(arr, out);
    json_decref(arr);
    assert_int_equal(json_array_size(doc), 2);
    json_t *first = json_array_get(doc, 0), *second = json_array_get(doc, 1);
    assert_int_equal(json_array_size(json_object_get(first, "answers")), 2);
    assert_null(json_object_get(first, "more"));
    json_t *kept = json_object_get(second, "answers");
    assert_true(json_array_size(kept) >= 1 && json_array_size(kept) < 200);
    for (size_t i = 0; i < json_array_size(kept); i++)
        assert_string_equal(json_string_value(json_array_get(kept, i)), b.v[i].value);
    assert_true(json_is_true(json_object_get(second, "more")));
    /* The TTL is the lowest of every answer, dropped ones included. */
    uint32_t low = UINT32_MAX;
    for (size_t i = 0; i < b.n; i++)
        low = b.v[i].ttl < low ? b.v[i].ttl : low;
    assert_int_equal(json_integer_value(json_object_get(second, "ttl")), low);
    /* Not much room wasted: one more answer would not have fit. */
    assert_true(strlen(out) + 120 + 8 > YS_RESULT_FACTS_MAX - 1);
    json_decref(doc);
    ys_dns_response_free(&a);
    ys_dns_response_free(&b);
}

/* Every count and length of answers, on one to twelve servers: always
 * whole JSON within the buffer, every object a server's or the marker,
 * and the servers kept are the first ones, in order. */
static void test_always_whole_json(void **state)
{
    (void)state;
    static const size_t counts[] = {0, 1, 3, 17, 64, 300};
    static const size_t lens[] = {1, 15, 60, 250, 511};
    char out[YS_RESULT_FACTS_MAX];
    for (size_t nserv = 1; nserv <= 12; nserv++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
                struct ys_dns_response r;
                fill(&r, counts[c], lens[l], YS_DNS_TXT);
                json_t *arr = json_array();
                for (size_t s = 0; s < nserv; s++) {
                    char name[64];
                    snprintf(name, sizeof name, "[2001:db8::%zx]:5353", s);
                    json_array_append_new(arr, s % 4 == 3 ? ys_dns_facts_error(name, "timeout")
                                                          : ys_dns_facts_response(name, &r, true));
                }
                json_t *doc = dump_and_parse(arr, out);
                json_decref(arr);
                size_t n = json_array_size(doc);
                assert_true(n >= 1);
                for (size_t i = 0; i < n; i++) {
                    json_t *o = json_array_get(doc, i);
                    const char *server = json_string_value(json_object_get(o, "server"));
                    if (!server) { /* only the last can be the marker */
                        assert_int_equal(i, n - 1);
                        assert_true(json_is_true(json_object_get(o, "more")));
                        assert_true(n - 1 < nserv);
                        continue;
                    }
                    char want[64];
                    snprintf(want, sizeof want, "[2001:db8::%zx]:5353", i);
                    assert_string_equal(server, want);
                }
                json_decref(doc);
                ys_dns_response_free(&r);
            }
        }
    }
}

static void test_too_small(void **state)
{
    (void)state;
    char out[8] = "garbage";
    json_t *arr = json_array();
    json_array_append_new(arr, ys_dns_facts_error("127.0.0.1:53", "timeout"));
    assert_int_equal(ys_dns_facts_dump(arr, out, sizeof out), YS_ETOOBIG);
    assert_string_equal(out, "");
    json_decref(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_response),
        cmocka_unit_test(test_many_long_answers),
        cmocka_unit_test(test_always_whole_json),
        cmocka_unit_test(test_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
