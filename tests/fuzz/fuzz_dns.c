/*
 * fuzz_dns.c - libFuzzer target for the DNS response parser
 * (ys_dns_response_parse, src/probe/dns_parse.c), which reads whatever a
 * server sends, and for the facts built from what it parsed
 * (src/probe/dns_facts.c). Each input is parsed once per record type the
 * kinds ask for; a successful parse must yield answers whose values are
 * terminated strings within their buffers, and its facts, as three
 * servers' plus a failed one's, must dump to whole JSON that fits a
 * result. Corpus: tests/fuzz/corpus/dns/ (responses captured from knot, a
 * TCP one included, truncated copies, and 60 A answers, too many for the
 * facts).
 */
#include "core/result.h"
#include "probe/dns_client.h"
#include "probe/dns_facts.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_facts(const struct ys_dns_response *r)
{
    static const char *const servers[] = {"127.0.0.1:53", "[2001:db8::1]:5353", "192.0.2.1:53"};
    json_t *arr = json_array();
    for (size_t i = 0; i < 3; i++)
        json_array_append_new(arr, ys_dns_facts_response(servers[i], r, i != 1));
    json_array_append_new(arr, ys_dns_facts_error("192.0.2.2:53", "timeout"));
    char out[YS_RESULT_FACTS_MAX];
    if (ys_dns_facts_dump(arr, out, sizeof out) != 0 || strlen(out) >= sizeof out)
        abort();
    json_t *doc = json_loads(out, 0, NULL);
    if (!json_is_array(doc) || json_array_size(doc) == 0)
        abort();
    json_decref(doc);
    json_decref(arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {YS_DNS_A,  YS_DNS_AAAA, YS_DNS_CNAME, YS_DNS_TXT, YS_DNS_MX,
                                YS_DNS_NS, YS_DNS_SOA,  YS_DNS_CAA,   YS_DNS_SRV};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        struct ys_dns_response r;
        if (ys_dns_response_parse(data, size, types[t], &r) == 0) {
            for (size_t i = 0; i < r.n; i++)
                if (strnlen(r.v[i].value, sizeof r.v[i].value) == sizeof r.v[i].value)
                    abort();
            check_facts(&r);
            ys_dns_response_free(&r);
        }
    }
    return 0;
}
