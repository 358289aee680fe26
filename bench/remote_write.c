/*
 * bench/remote_write.c - remote-write throughput and CPU per sample, driven
 * by bench/remote_write.sh against a real Prometheus receiver.
 *
 * Two figures:
 *   1. encode only: results turned into samples and encoded (protobuf +
 *      snappy) in batches of BATCH, in memory: samples/s and CPU ns/sample.
 *   2. end to end: the remote-write threads (src/remote/: the writer and
 *      one sender) with one endpoint (URL) and N checks; this thread
 *      pushes results as fast as they keep up (it waits while more than
 *      50,000 samples are pending, so nothing is dropped) for DURATION
 *      seconds, then waits (at most 30 s) until everything pushed was
 *      accepted. Prints samples sent per second of wall time and CPU
 *      (user + system of this process: pushing, encoding, the disk
 *      queue's fsyncs, HTTP) per sample.
 *
 * Usage: bench_remote_write URL QUEUE_DIR [DURATION_S] [N_CHECKS] [BATCH]
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/result.h"
#include "remote/remote.h"
#include "remote/remote_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static struct ys_config *make_config(const char *url, int n, int batch)
{
    size_t cap = 256 + (size_t)n * 160, len = 0;
    char *y = malloc(cap);
    len += (size_t)snprintf(y + len, cap - len,
                            "remote_write:\n  - name: bench\n    url: %s\n    batch_size: %d\n"
                            "    flush_interval: 200ms\nchecks:\n",
                            url, batch);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(y + len, cap - len,
                                "  - name: bench-%d\n    kind: http\n    url: http://127.0.0.1/\n"
                                "    labels: { team: t%d, zone: z%d }\n",
                                i, i % 7, i % 3);
    struct ys_diag d;
    struct ys_config *cfg = NULL;
    ys_diag_init(&d, "bench.yaml");
    if (ys_config_load_string(y, len, &cfg, &d) != 0) {
        fprintf(stderr, "bench config: %s\n", d.n ? d.v[0].msg : "?");
        exit(2);
    }
    ys_diag_free(&d);
    free(y);
    return cfg;
}

static void fake_result(struct ys_result *r, int64_t ts, int i)
{
    ys_result_init(r);
    r->ts_ms = ts;
    r->ok = i % 10 != 0;
    r->duration_us = 1000 + i % 5000;
    r->phase_us[YS_PHASE_DNS] = 20;
    r->phase_us[YS_PHASE_CONNECT] = 100 + i % 50;
    r->phase_us[YS_PHASE_TTFB] = 500 + i % 900;
}

static void bench_encode(const struct ys_config *cfg, int batch)
{
    double c0 = cpu_s();
    int64_t t0 = ys_mono_us(), total = 0;
    struct ys_rw_samples s = {0};
    char **bases = calloc(cfg->n_checks, sizeof *bases);
    size_t *lens = calloc(cfg->n_checks, sizeof *lens);
    for (size_t i = 0; i < cfg->n_checks; i++)
        bases[i] = ys_rw_base_labels(&cfg->checks[i], &lens[i]);
    for (int round = 0; ys_mono_us() - t0 < 2000000; round++) {
        for (size_t i = 0; i < cfg->n_checks && s.n < (size_t)batch; i++) {
            struct ys_result r;
            fake_result(&r, 1700000000000 + round * 1000, (int)i);
            ys_rw_result_samples(&s, bases[i], lens[i], &r);
        }
        char *body = NULL;
        size_t len = 0, n = s.n;
        struct ys_err err;
        if (ys_rw_encode(s.v, &n, &body, &len, &err) == 0)
            total += (int64_t)n;
        s.n = n;
        free(body);
        ys_rw_samples_free(&s);
    }
    double wall = (double)(ys_mono_us() - t0) / 1e6, cpu = cpu_s() - c0;
    printf("encode only:   %10.0f samples/s  %7.0f ns CPU/sample  (batches of %d)\n",
           (double)total / wall, cpu * 1e9 / (double)total, batch);
    for (size_t i = 0; i < cfg->n_checks; i++)
        free(bases[i]);
    free(bases);
    free(lens);
}

static struct ys_remote_stats_one stats(struct ys_remote *rw)
{
    struct ys_remote_stats st;
    ys_remote_stats(rw, &st);
    struct ys_remote_stats_one one = st.v[0];
    free(st.v);
    return one;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s URL QUEUE_DIR [DURATION_S] [N_CHECKS] [BATCH]\n", argv[0]);
        return 2;
    }
    int duration = argc > 3 ? atoi(argv[3]) : 10; /* NOLINT: bench arguments */
    int n = argc > 4 ? atoi(argv[4]) : 1000;      /* NOLINT */
    int batch = argc > 5 ? atoi(argv[5]) : 500;   /* NOLINT */
    struct ys_config *cfg = make_config(argv[1], n > 0 ? n : 1, batch > 0 ? batch : 500);
    bench_encode(cfg, batch);
    struct ys_remote *rw = NULL;
    struct ys_err err;
    if (ys_remote_start(cfg, argv[2], &rw, &err) < 0) {
        fprintf(stderr, "remote start: %s\n", err.msg);
        return 1;
    }
    double c0 = cpu_s();
    int64_t t0 = ys_mono_us(), ts = ys_wall_ms() - 60000, pushed = 0;
    while (ys_mono_us() - t0 < (int64_t)duration * 1000000) {
        if (stats(rw).pending > 50000) {
            usleep(2000);
            continue;
        }
        for (size_t i = 0; i < cfg->n_checks; i++) {
            struct ys_result r;
            fake_result(&r, ts, (int)i);
            ys_remote_push(rw, &cfg->checks[i], &r);
            pushed += (int64_t)ys_rw_result_count(&r);
        }
        ts++; /* one millisecond per round: every sample of a series is new */
    }
    int64_t deadline = ys_mono_us() + 30000000;
    struct ys_remote_stats_one st = stats(rw);
    while ((int64_t)(st.sent + st.dropped) < pushed && ys_mono_us() < deadline) {
        usleep(10000);
        st = stats(rw);
    }
    double wall = (double)(ys_mono_us() - t0) / 1e6, cpu = cpu_s() - c0;
    printf("end to end:    %10.0f samples/s  %7.0f ns CPU/sample  (%lld pushed, %llu sent, "
           "%llu failed, %llu dropped, %.1f s, %d checks)\n",
           (double)st.sent / wall, st.sent ? cpu * 1e9 / (double)st.sent : 0.0, (long long)pushed,
           (unsigned long long)st.sent, (unsigned long long)st.failed,
           (unsigned long long)st.dropped, wall, n);
    ys_remote_stop(rw);
    ys_config_unref(cfg);
    return st.sent == (uint64_t)pushed ? 0 : 1;
}
