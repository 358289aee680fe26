/*
 * probe.h - the interface every probe kind implements, and the base of a
 * probe in flight.
 *
 * A kind is one `const struct ys_probe_type` (http, tcp, ...) listed in the
 * static table of registry.c. The kind parses its own config fields into a
 * spec, and starts probes on the loop. Probes know nothing of storage,
 * alerts or the web: they hand back one struct ys_result.
 *
 * Contract (libuv's): if start returns 0, done runs exactly once, later, on
 * the loop thread, unless cancel is called first, after which done never
 * runs. If start fails, done is never called. The result given to done is
 * borrowed for the duration of the call. After done returns (or after
 * cancel) the probe frees itself once its handles are closed, so the loop
 * must keep running until its handles are gone.
 *
 * Every probe opens fresh connections and enforces check->timeout_ms with
 * the loop's timers; nothing blocks the loop thread.
 */
#ifndef YS_PROBE_PROBE_H
#define YS_PROBE_PROBE_H

#include "config/model.h"
#include "core/result.h"

#include <uv.h>

struct ys_node;
struct ys_diag;
struct ys_curl_multi;

/* What all probes on one loop share. */
struct ys_probe_env {
    uv_loop_t *loop;
    struct ys_curl_multi *curl; /* libcurl multi handle driven by loop */
};

struct ys_probe;
typedef void (*ys_probe_done_cb)(struct ys_probe *probe, const struct ys_result *result,
                                 void *arg);

struct ys_probe_type {
    const char *name;
    /* The kind's own keys (besides name, kind, interval, timeout, labels),
     * NULL-terminated, so unknown keys get a "did you mean" suggestion. */
    const char *const *keys;
    /* Reads the kind's fields from the check's map node into an owned spec.
     * Adds every problem to d and returns YS_ECONFIG if any. */
    int (*parse)(const struct ys_node *check, const struct ys_check *base, void **spec,
                 struct ys_diag *d);
    void (*free_spec)(void *spec);
    /* Starts one probe of check (borrowed until done or cancel). NULL for
     * a passive kind (heartbeat): the scheduler never starts it, and its
     * results come from pings (live/heartbeats.c). */
    int (*start)(struct ys_probe_env *env, const struct ys_check *check, ys_probe_done_cb done,
                 void *arg, struct ys_probe **out);
    void (*cancel)(struct ys_probe *probe);
};

/* The common base every kind's probe struct embeds first, as `super`. */
struct ys_probe {
    const struct ys_probe_type *type;
    const struct ys_check *check;
    ys_probe_done_cb done;
    void *done_arg;
    int64_t start_mono_us;
    struct ys_result result; /* filled as the probe goes */
};

/* Fills the base at start: clock readings, result initialised. */
void ys_probe_base_init(struct ys_probe *p, const struct ys_probe_type *type,
                        const struct ys_check *check, ys_probe_done_cb done, void *arg);
/* Stamps the duration and calls done once. */
void ys_probe_base_finish(struct ys_probe *p);

/* The kind named name, or NULL. */
const struct ys_probe_type *ys_probe_type_find(const char *name);
/* NULL-terminated list of the kind names, for "did you mean". */
const char *const *ys_probe_type_names(void);

#endif
