/*
 * dns_facts.c - per-server facts of the dns kinds as compact JSON (see
 * dns_facts.h).
 *
 * The facts of a probe must fit struct ys_result's fixed buffer, and a
 * server can return hundreds of answers. Rather than cut text (which
 * breaks JSON), ys_dns_facts_dump drops whole values, answers first and
 * then whole servers, from the end, and marks each cut with "more": true.
 * It measures what to drop from the encoded size of each value, then dumps
 * again; every round drops at least one value, so it ends, and usually
 * after one or two rounds whatever the number of answers.
 *
 * Pure functions; any thread.
 */
#include "probe/dns_facts.h"

#include "core/err.h"
#include "probe/dns_spec.h"

#include <math.h>
#include <string.h>

/* Compact, and every response time (ms with three decimals, below 10^6)
 * printed exactly. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))
/* What `,"more":true` adds to an object, and `,{"more":true}` to an array. */
#define MORE_KEY_LEN (sizeof ",\"more\":true" - 1)
#define MORE_OBJ_LEN (sizeof ",{\"more\":true}" - 1)

json_t *ys_dns_facts_response(const char *server, const struct ys_dns_response *resp,
                              bool with_serial)
{
    char rc[16];
    json_t *o = json_object();
    json_object_set_new(o, "server", json_string(server));
    json_object_set_new(o, "rcode", json_string(ys_dns_rcode_name(resp->rcode, rc, sizeof rc)));
    /* Microseconds as ms with three decimals: what was measured, no more. */
    json_object_set_new(o, "ms", json_real(round((double)resp->rtt_us) / 1000.0));
    json_t *answers = json_array();
    uint32_t ttl = UINT32_MAX;
    for (size_t i = 0; i < resp->n; i++) {
        /* Values are printable ASCII (dns_parse.c escapes the rest), so
         * json_string never refuses them; a NULL would only be skipped. */
        json_t *v = json_string(resp->v[i].value);
        if (v)
            json_array_append_new(answers, v);
        if (resp->v[i].ttl < ttl)
            ttl = resp->v[i].ttl;
    }
    json_object_set_new(o, "answers", answers);
    if (resp->n > 0)
        json_object_set_new(o, "ttl", json_integer(ttl));
    if (with_serial && resp->has_soa)
        json_object_set_new(o, "serial", json_integer(resp->soa_serial));
    if (resp->used_tcp)
        json_object_set_new(o, "tcp", json_true());
    return o;
}

json_t *ys_dns_facts_error(const char *server, const char *errclass)
{
    json_t *o = json_object();
    json_object_set_new(o, "server", json_string(server));
    json_object_set_new(o, "error", json_string(errclass));
    return o;
}

/* The encoded length of v on its own. */
static size_t encoded_len(const json_t *v)
{
    return json_dumpb(v, NULL, 0, DUMP_FLAGS | JSON_ENCODE_ANY);
}

/* Drops answers from the end until about excess bytes are gone. Returns
 * whether it dropped any. */
static bool drop_answers(json_t *arr, size_t excess)
{
    size_t freed = 0;
    bool dropped = false;
    for (size_t i = json_array_size(arr); i-- > 0 && freed < excess;) {
        json_t *o = json_array_get(arr, i);
        json_t *answers = json_object_get(o, "answers");
        size_t n = json_array_size(answers);
        if (n == 0)
            continue;
        if (!json_object_get(o, "more")) {
            json_object_set_new(o, "more", json_true());
            excess += MORE_KEY_LEN;
        }
        while (n > 0 && freed < excess) {
            freed += encoded_len(json_array_get(answers, n - 1)) + 1; /* and its comma */
            json_array_remove(answers, --n);
            dropped = true;
        }
    }
    return dropped;
}

static bool is_marker(const json_t *o)
{
    return json_object_size(o) == 1 && json_object_get(o, "more");
}

/* Drops whole objects from the end (before the {"more": true} marker it
 * appends once) until about excess bytes are gone. Returns whether it
 * dropped any. */
static bool drop_objects(json_t *arr, size_t excess)
{
    size_t n = json_array_size(arr), freed = 0;
    bool dropped = false;
    if (n == 0 || !is_marker(json_array_get(arr, n - 1))) {
        json_t *marker = json_object();
        json_object_set_new(marker, "more", json_true());
        json_array_append_new(arr, marker);
        excess += MORE_OBJ_LEN;
        n++;
    }
    while (n >= 2 && freed < excess) {
        freed += encoded_len(json_array_get(arr, n - 2)) + 1;
        json_array_remove(arr, n - 2);
        n--;
        dropped = true;
    }
    return dropped;
}

int ys_dns_facts_dump(json_t *arr, char *out, size_t size)
{
    if (size == 0)
        return YS_ETOOBIG;
    for (;;) {
        size_t need = json_dumpb(arr, out, size, DUMP_FLAGS);
        if (need == 0)
            break; /* not an array (or out of memory) */
        if (need < size) {
            out[need] = '\0';
            return 0;
        }
        size_t excess = need - (size - 1);
        if (!drop_answers(arr, excess) && !drop_objects(arr, excess))
            break;
    }
    out[0] = '\0';
    return YS_ETOOBIG;
}
