/*
 * fuzz_dns.c - libFuzzer target for the DNS response parser
 * (ys_dns_response_parse, src/probe/dns_parse.c), which reads whatever a
 * server sends. Each input is parsed once per record type the kinds ask
 * for; a successful parse must yield answers whose values are terminated
 * strings within their buffers. Corpus: tests/fuzz/corpus/dns/ (responses
 * captured from knot, a TCP one included, and truncated copies).
 */
#include "probe/dns_client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {YS_DNS_A,   YS_DNS_AAAA, YS_DNS_CNAME, YS_DNS_TXT, YS_DNS_MX,
                                YS_DNS_NS,  YS_DNS_SOA,  YS_DNS_CAA,   YS_DNS_SRV};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        struct ys_dns_response r;
        if (ys_dns_response_parse(data, size, types[t], &r) == 0) {
            for (size_t i = 0; i < r.n; i++)
                if (strnlen(r.v[i].value, sizeof r.v[i].value) == sizeof r.v[i].value)
                    abort();
            ys_dns_response_free(&r);
        }
    }
    return 0;
}
