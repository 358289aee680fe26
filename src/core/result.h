/*
 * result.h - what one probe produces: the plain struct every part meets on.
 *
 * Probe kinds fill it, the scheduler stamps the check's store id on it, the
 * store writer encodes it, the CLI prints it. It is fixed-size and holds no
 * pointers, so it can be copied into a queue and across threads as is.
 * The store keeps the fixed part compact and the text (message, subject,
 * issuer) in dictionaries; see docs/internals/store.md.
 */
#ifndef YS_CORE_RESULT_H
#define YS_CORE_RESULT_H

#include <stdbool.h>
#include <stdint.h>

/* Why a probe failed. The order is part of the store format: append only. */
enum ys_errclass {
    YS_EC_NONE = 0,
    YS_EC_DNS,         /* the name did not resolve */
    YS_EC_CONNECT,     /* refused, unreachable, reset before a response */
    YS_EC_TLS,         /* handshake or certificate verification failed */
    YS_EC_TIMEOUT,     /* the check's timeout passed */
    YS_EC_HTTP_STATUS, /* a status the check does not expect */
    YS_EC_ASSERTION,   /* body, header, time or certificate-age assertion */
    YS_EC_INTERNAL,    /* yardstick or a library failed */
    /* The probe ran but had nothing to judge (a PromQL query that returned
     * no series). Not a verdict on the service: such results are kept raw
     * but left out of SLO and goal counts (ys_result_counts). */
    YS_EC_NO_DATA,
    YS_EC_COUNT
};

/* Phase timings in microseconds; -1 where a phase did not happen. */
enum ys_phase { YS_PHASE_DNS = 0, YS_PHASE_CONNECT, YS_PHASE_TLS, YS_PHASE_TTFB, YS_PHASE_COUNT };

enum ys_result_flags {
    YS_RF_HAS_VALUE = 1 << 0, /* value is meaningful */
    YS_RF_HAS_TLS = 1 << 1,   /* tls facts are filled */
    YS_RF_TRUNCATED = 1 << 2, /* the body was larger than the cap */
    YS_RF_EXCLUDED = 1 << 3,  /* in a maintenance window excluded from SLOs: kept raw, not rolled up */
    /* Store-internal: the stored record has a row in the facts table. The
     * store sets it on what it encodes when facts is non-empty and clears
     * it on what query_raw returns, so nobody else sees or sets it. */
    YS_RF_FACTS_ROW = 1 << 4,
    /* An http check with cold_start: the response came from a service
     * that had scaled to zero. Stored through the codec's extra flags. */
    YS_RF_COLD = 1 << 5,
};

#define YS_RESULT_MSG_MAX 240
#define YS_RESULT_NAME_MAX 160
/* Room for a kind's facts, terminator included. A kind that has more to say
 * trims its facts to fit (and says so in them); it never cuts JSON text. */
#define YS_RESULT_FACTS_MAX 384

struct ys_tls_facts {
    int64_t leaf_not_after;     /* epoch seconds of the leaf certificate's notAfter */
    int64_t earliest_not_after; /* the earliest notAfter in the presented chain */
    char subject[YS_RESULT_NAME_MAX]; /* leaf subject, one-line RFC 2253 form */
    char issuer[YS_RESULT_NAME_MAX];  /* leaf issuer */
};

struct ys_result {
    uint32_t check_id;    /* the store's id of the check; set by the scheduler */
    int64_t ts_ms;        /* wall clock when the probe started, epoch ms */
    int64_t duration_us;  /* monotonic, start to verdict */
    bool ok;
    uint8_t errclass;     /* enum ys_errclass */
    uint8_t flags;        /* enum ys_result_flags */
    uint16_t status;      /* protocol status (HTTP code), 0 if none */
    int64_t bytes;        /* body or payload bytes received */
    double value;         /* optional numeric value (YS_RF_HAS_VALUE) */
    int32_t phase_us[YS_PHASE_COUNT];
    struct ys_tls_facts tls; /* YS_RF_HAS_TLS */
    char message[YS_RESULT_MSG_MAX]; /* a sentence a person can read; "" when ok */
    /* Kind-specific facts as compact JSON text (an array or an object), ""
     * when the kind has none. dns: one object per server in config order,
     * {"server","rcode","ms","answers","ttl","serial"}; see
     * docs/configuration.md for each kind's shape. Always a whole JSON
     * document: a kind with more than fits drops detail and marks it
     * ("more": true). Printed parsed as "facts" by result_json.c. */
    char facts[YS_RESULT_FACTS_MAX];
};

/* Sets every field to its empty value (phases -1, strings ""). */
void ys_result_init(struct ys_result *r);
/* Marks r failed with class and a printf-style message. Only the first
 * failure is kept: a later call on a failed result does nothing, so the
 * message names the first thing that went wrong. */
void ys_result_fail(struct ys_result *r, enum ys_errclass ec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether r counts as an event for SLOs and goals: not inside a maintenance
 * window excluded from them, and not "no data". The stores' rollups skip
 * the others. */
static inline bool ys_result_counts(const struct ys_result *r)
{
    return !(r->flags & YS_RF_EXCLUDED) && !(!r->ok && r->errclass == YS_EC_NO_DATA);
}
/* "dns", "connect", ... ; "" for YS_EC_NONE. */
const char *ys_errclass_name(unsigned ec);
/* Whole days from now_s to the leaf notAfter (negative once expired). */
int64_t ys_tls_days_left(const struct ys_tls_facts *t, int64_t now_s);

#endif
