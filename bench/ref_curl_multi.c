/*
 * ref_curl_multi.c - the bare libcurl-multi reference loop of the probe
 * throughput benchmark (bench/probe_throughput.sh).
 *
 * It does what a probe does and nothing else: GET a URL over a fresh
 * connection (FRESH_CONNECT + FORBID_REUSE, no TLS session resumption,
 * certificate verification on against one CA file, CAPATH NULL so that
 * libcurl's CA cache in the multi handle works), discard the body, count
 * the outcome. No storage, no config, no assertions. It is the floor that
 * yardstick and blackbox_exporter are compared against.
 *
 * Two modes. Steady (-r RATE): request i is due at t0 + i/RATE; the loop
 * starts every due request as soon as it wakes and records how late it was
 * (the same "schedule lateness" yardstick reports). Saturated (-c N): keep
 * N requests in flight for the whole run. Either way it prints one line of
 * key=value figures; CPU is measured from outside by the script (wait4 of
 * this process), the self_cpu figure is only a cross-check.
 *
 * Data: a free list of configured easy handles (reused after completion, so
 * the loop allocates nothing per probe beyond what libcurl does), one
 * lateness sample per steady probe. Single-threaded; the loop is
 * curl_multi_poll, which for a few hundred sockets at most is as cheap as
 * the multi-socket API and much shorter.
 */
#include <curl/curl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct opts {
    const char *url;
    const char *ca_file;
    double rate;      /* steady mode when > 0 */
    int concurrency;  /* saturated mode when > 0 */
    double seconds;
    long timeout_ms;
};

struct run {
    const struct opts *o;
    CURLM *multi;
    CURL **free_list;
    size_t free_n, free_cap;
    int in_flight;
    uint64_t started, done, ok, failed, skipped;
    double *late_ms; /* steady mode: one per started probe */
    size_t late_n, late_cap;
    int reported_error;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * nmemb;
}

static CURL *new_easy(const struct opts *o)
{
    CURL *e = curl_easy_init();
    if (!e) {
        fprintf(stderr, "ref: curl_easy_init failed\n");
        exit(1);
    }
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    /* A monitor measures connect and handshake every time. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    /* Without this, Debian's default CApath disables the CA cache and the
     * store is re-read on every handshake. */
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    return e;
}

static void start_one(struct run *r, double late_s)
{
    CURL *e = r->free_n ? r->free_list[--r->free_n] : new_easy(r->o);
    if (curl_multi_add_handle(r->multi, e) != CURLM_OK) {
        fprintf(stderr, "ref: curl_multi_add_handle failed\n");
        exit(1);
    }
    r->in_flight++;
    r->started++;
    if (late_s >= 0 && r->late_n < r->late_cap)
        r->late_ms[r->late_n++] = late_s * 1e3;
}

static void reap(struct run *r)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(r->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (m->data.result == CURLE_OK && status >= 200 && status < 300) {
            r->ok++;
        } else {
            r->failed++;
            if (!r->reported_error++)
                fprintf(stderr, "ref: first failure: %s (status %ld)\n",
                        curl_easy_strerror(m->data.result), status);
        }
        r->done++;
        r->in_flight--;
        curl_multi_remove_handle(r->multi, e);
        if (r->free_n == r->free_cap) {
            r->free_cap = r->free_cap ? 2 * r->free_cap : 64;
            r->free_list = realloc(r->free_list, r->free_cap * sizeof *r->free_list);
            if (!r->free_list)
                abort();
        }
        r->free_list[r->free_n++] = e;
    }
}

static void pump(struct run *r, int wait_ms)
{
    int running;
    curl_multi_poll(r->multi, NULL, 0, wait_ms, NULL);
    curl_multi_perform(r->multi, &running);
    reap(r);
}

/* Steady mode: request i is due at t0 + i / rate. A probe still in flight
 * does not hold back the next one (the reference has no per-check
 * identity), but more than max_in_flight at once counts as skipped. */
static void run_steady(struct run *r, double t0)
{
    const struct opts *o = r->o;
    const int max_in_flight = 4096;
    uint64_t total = (uint64_t)(o->rate * o->seconds + 0.5), i = 0;
    while (i < total || r->in_flight > 0) {
        double now = now_s();
        while (i < total && t0 + (double)i / o->rate <= now) {
            if (r->in_flight < max_in_flight)
                start_one(r, now - (t0 + (double)i / o->rate));
            else
                r->skipped++;
            i++;
        }
        int wait_ms = 1000;
        if (i < total) {
            double next = t0 + (double)i / o->rate - now_s();
            wait_ms = next <= 0 ? 0 : (int)(next * 1e3) + 1;
        }
        pump(r, wait_ms);
    }
}

static void run_saturated(struct run *r, double t0)
{
    double end = t0 + r->o->seconds;
    for (;;) {
        int open = now_s() < end;
        while (open && r->in_flight < r->o->concurrency)
            start_one(r, -1);
        if (!open && r->in_flight == 0)
            break;
        pump(r, open ? 100 : 1000);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k];
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_ref_curl_multi -u URL (-r RATE | -c CONCURRENCY) -t SECONDS\n"
            "                            [-a CA_FILE] [-T TIMEOUT_MS]\n");
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    int c;
    memset(o, 0, sizeof *o);
    o->seconds = 10;
    o->timeout_ms = 5000;
    while ((c = getopt(argc, argv, "u:a:r:c:t:T:")) != -1) {
        switch (c) {
        case 'u': o->url = optarg; break;
        case 'a': o->ca_file = optarg; break;
        case 'r': o->rate = strtod(optarg, NULL); break;
        case 'c': o->concurrency = (int)strtol(optarg, NULL, 10); break;
        case 't': o->seconds = strtod(optarg, NULL); break;
        case 'T': o->timeout_ms = strtol(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (!o->url || (o->rate > 0) == (o->concurrency > 0) || o->seconds <= 0 ||
        o->rate > 1e6 || o->seconds > 3600)
        usage();
}

int main(int argc, char **argv)
{
    struct opts o;
    struct run r;
    parse(argc, argv, &o);
    memset(&r, 0, sizeof r);
    r.o = &o;
    if (o.rate > 0) {
        r.late_cap = (size_t)(o.rate * o.seconds) + 1;
        r.late_ms = malloc(r.late_cap * sizeof *r.late_ms);
        if (!r.late_ms)
            abort();
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    r.multi = curl_multi_init();

    double t0 = now_s();
    if (o.rate > 0)
        run_steady(&r, t0);
    else
        run_saturated(&r, t0);
    double elapsed = now_s() - t0;
    if (o.rate > 0 && elapsed < o.seconds)
        elapsed = o.seconds;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    qsort(r.late_ms, r.late_n, sizeof *r.late_ms, cmp_double);
    printf("ref mode=%s target_per_s=%.1f started=%llu done=%llu ok=%llu failed=%llu "
           "skipped=%llu elapsed_s=%.3f achieved_per_s=%.1f lateness_p50_ms=%.3f "
           "lateness_p99_ms=%.3f self_cpu_us_per_probe=%.1f\n",
           o.rate > 0 ? "steady" : "saturated", o.rate, (unsigned long long)r.started,
           (unsigned long long)r.done, (unsigned long long)r.ok, (unsigned long long)r.failed,
           (unsigned long long)r.skipped, elapsed, (double)r.done / elapsed,
           pct(r.late_ms, r.late_n, 0.50), pct(r.late_ms, r.late_n, 0.99),
           r.done ? cpu_us / (double)r.done : 0.0);

    while (r.free_n)
        curl_easy_cleanup(r.free_list[--r.free_n]);
    free(r.free_list);
    free(r.late_ms);
    curl_multi_cleanup(r.multi);
    curl_global_cleanup();
    return r.ok ? 0 : 1;
}
