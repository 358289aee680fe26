/*
 * drive_blackbox.c - load driver for prometheus-blackbox-exporter in the
 * probe throughput benchmark (bench/probe_throughput.sh).
 *
 * blackbox_exporter probes when its /probe?module=...&target=... endpoint
 * is requested, the way Prometheus scrapes it. This program plays
 * Prometheus: it requests that URL at a steady rate (-r) or keeps N
 * requests in flight (-c), over keep-alive connections so that the
 * driver's own cost stays small, and counts a probe as done when the
 * exporter answers and as ok when the answer says "probe_success 1".
 * Its CPU is not counted in the benchmark; the script measures the
 * exporter's process.
 *
 * Data: a free list of easy handles, each with a capped response buffer
 * (struct slot, found again through CURLOPT_PRIVATE). Single-threaded,
 * curl_multi_poll loop, like ref_curl_multi.c.
 */
#include <curl/curl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BODY_CAP (256 * 1024)

struct slot {
    CURL *easy;
    char *body;
    size_t len;
};

struct drv {
    const char *url;
    double rate, seconds;
    int concurrency;
    CURLM *multi;
    struct slot **free_list;
    size_t free_n, free_cap;
    int in_flight;
    uint64_t started, done, ok, failed;
    int reported;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t body_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct slot *s = arg;
    size_t n = size * nmemb, room = BODY_CAP - 1 - s->len;
    memcpy(s->body + s->len, ptr, n < room ? n : room);
    s->len += n < room ? n : room;
    return n;
}

static struct slot *new_slot(struct drv *d)
{
    struct slot *s = calloc(1, sizeof *s);
    if (!s || !(s->body = malloc(BODY_CAP)) || !(s->easy = curl_easy_init()))
        abort();
    curl_easy_setopt(s->easy, CURLOPT_URL, d->url);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 30000L);
    return s;
}

static void start_one(struct drv *d)
{
    struct slot *s = d->free_n ? d->free_list[--d->free_n] : new_slot(d);
    s->len = 0;
    curl_multi_add_handle(d->multi, s->easy);
    d->in_flight++;
    d->started++;
}

static void reap(struct drv *d)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(d->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct slot *s;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        s->body[s->len] = '\0';
        if (m->data.result == CURLE_OK && strstr(s->body, "\nprobe_success 1")) {
            d->ok++;
        } else {
            d->failed++;
            if (!d->reported++)
                fprintf(stderr, "drive: first failure: %s: %.300s\n",
                        curl_easy_strerror(m->data.result), s->body);
        }
        d->done++;
        d->in_flight--;
        curl_multi_remove_handle(d->multi, m->easy_handle);
        if (d->free_n == d->free_cap) {
            d->free_cap = d->free_cap ? 2 * d->free_cap : 64;
            d->free_list = realloc(d->free_list, d->free_cap * sizeof *d->free_list);
            if (!d->free_list)
                abort();
        }
        d->free_list[d->free_n++] = s;
    }
}

static void pump(struct drv *d, int wait_ms)
{
    int running;
    curl_multi_poll(d->multi, NULL, 0, wait_ms, NULL);
    curl_multi_perform(d->multi, &running);
    reap(d);
}

static void run(struct drv *d, double t0)
{
    uint64_t total = d->rate > 0 ? (uint64_t)(d->rate * d->seconds + 0.5) : 0, i = 0;
    double end = t0 + d->seconds;
    for (;;) {
        double now = now_s();
        int wait_ms = 1000;
        if (d->rate > 0) {
            while (i < total && t0 + (double)i / d->rate <= now) {
                start_one(d);
                i++;
            }
            if (i >= total && d->in_flight == 0)
                break;
            if (i < total) {
                double next = t0 + (double)i / d->rate - now_s();
                wait_ms = next <= 0 ? 0 : (int)(next * 1e3) + 1;
            }
        } else {
            int open = now < end;
            while (open && d->in_flight < d->concurrency)
                start_one(d);
            if (!open && d->in_flight == 0)
                break;
            wait_ms = open ? 100 : 1000;
        }
        pump(d, wait_ms);
    }
}

int main(int argc, char **argv)
{
    struct drv d;
    int c;
    memset(&d, 0, sizeof d);
    d.seconds = 10;
    while ((c = getopt(argc, argv, "u:r:c:t:")) != -1) {
        switch (c) {
        case 'u': d.url = optarg; break;
        case 'r': d.rate = strtod(optarg, NULL); break;
        case 'c': d.concurrency = (int)strtol(optarg, NULL, 10); break;
        case 't': d.seconds = strtod(optarg, NULL); break;
        default: goto usage;
        }
    }
    if (!d.url || (d.rate > 0) == (d.concurrency > 0) || d.seconds <= 0 || d.seconds > 3600)
        goto usage;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    d.multi = curl_multi_init();
    double t0 = now_s();
    run(&d, t0);
    double elapsed = now_s() - t0;
    if (d.rate > 0 && elapsed < d.seconds)
        elapsed = d.seconds;
    printf("drive mode=%s target_per_s=%.1f started=%llu done=%llu ok=%llu failed=%llu "
           "elapsed_s=%.3f achieved_per_s=%.1f\n",
           d.rate > 0 ? "steady" : "saturated", d.rate, (unsigned long long)d.started,
           (unsigned long long)d.done, (unsigned long long)d.ok, (unsigned long long)d.failed,
           elapsed, (double)d.done / elapsed);
    while (d.free_n) {
        struct slot *s = d.free_list[--d.free_n];
        curl_easy_cleanup(s->easy);
        free(s->body);
        free(s);
    }
    free(d.free_list);
    curl_multi_cleanup(d.multi);
    curl_global_cleanup();
    return d.ok ? 0 : 1;
usage:
    fprintf(stderr, "usage: bench_drive_blackbox -u PROBE_URL (-r RATE | -c N) -t SECONDS\n");
    return 2;
}
