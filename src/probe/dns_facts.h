/*
 * dns_facts.h - what the dns kinds say per server in struct ys_result's
 * facts: a compact JSON array, one object per server in config order,
 * trimmed to YS_RESULT_FACTS_MAX without ever cutting JSON text.
 *
 *   [{"server":"127.0.0.1:5300","rcode":"NOERROR","ms":1.234,
 *     "answers":["192.0.2.10"],"ttl":300,"serial":2026112901},
 *    {"server":"127.0.0.1:5301","error":"timeout"}]
 *
 * Built with jansson (escaping, numbers); pure functions, any thread.
 */
#ifndef YS_PROBE_DNS_FACTS_H
#define YS_PROBE_DNS_FACTS_H

#include "probe/dns_client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One server's response: server, rcode (its name), ms (response time,
 * microsecond resolution), answers (presentation form, in the order
 * received), ttl (the lowest of the answers'; absent without answers),
 * serial (the SOA serial, only when with_serial and the response carries
 * an SOA), tcp: true (only when the UDP answer was truncated). Returns a
 * new reference. */
json_t *ys_dns_facts_response(const char *server, const struct ys_dns_response *resp,
                              bool with_serial);

/* A server without a usable response: {"server", "error": errclass}
 * ("timeout", "connect", "dns", "internal"). Returns a new reference. */
json_t *ys_dns_facts_error(const char *server, const char *errclass);

/* Writes arr (an array of objects) into out as compact JSON. When it does
 * not fit in size bytes (terminator included), detail goes first from the
 * end: answers from the last object that has some, back to the first (an
 * object that lost answers gains "more": true); then whole objects from
 * the end, and a final {"more": true} says some are missing. Changes arr.
 * Returns 0, or YS_ETOOBIG with out "" when not even that fits. */
int ys_dns_facts_dump(json_t *arr, char *out, size_t size);

#endif
