/*
 * api_certificates.c - GET /api/v1/certificates: the leaf certificate each
 * TLS-speaking check saw last (kept in the live snapshot even when a later
 * probe failed before the handshake), soonest expiry first.
 * Shapes: docs/api.md.
 *
 * Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include "core/clock.h"
#include "core/xalloc.h"

#include <microhttpd.h>

#include <stdlib.h>

struct cert_ref {
    size_t check;
    int64_t not_after;
};

static int by_expiry(const void *a, const void *b)
{
    const struct cert_ref *x = a, *y = b;
    if (x->not_after != y->not_after)
        return x->not_after < y->not_after ? -1 : 1;
    return x->check < y->check ? -1 : x->check > y->check;
}

void ys_web_api_certificates(struct ys_web_req *req, struct ys_web_reply *rep)
{
    const struct ys_live_snapshot *snap = req->snap;
    size_t n = snap->cfg->n_checks, k = 0;
    struct cert_ref *v = ys_xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        if (snap->checks[i].has_tls)
            v[k++] = (struct cert_ref){i, snap->checks[i].tls.leaf_not_after};
    qsort(v, k, sizeof *v, by_expiry);
    json_t *arr = json_array();
    int64_t now_s = req->now_ms / 1000;
    for (size_t j = 0; j < k; j++) {
        const struct ys_tls_facts *t = &snap->checks[v[j].check].tls;
        char when[40];
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "check", snap->cfg->checks[v[j].check].name,
                           "subject", t->subject, "issuer", t->issuer, "not_after",
                           ys_format_time(t->leaf_not_after * 1000, when, sizeof when),
                           "not_after_ms", (json_int_t)(t->leaf_not_after * 1000), "days_left",
                           (json_int_t)ys_tls_days_left(t, now_s)));
    }
    free(v);
    ys_web_reply_json(rep, MHD_HTTP_OK, json_pack("{s:o}", "certificates", arr));
}
