/*
 * test_incident.c - the incident state machine with flapping sequences, and
 * window statistics (slo/incident.h). Sequences are strings of F (failure)
 * and S (success) fed 10 s apart; the expected events are a string of the
 * same length ('O' opened, 'C' closed, '.' nothing).
 */
#include "slo/incident.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define STEP 10000 /* ms between results */

struct flap_case {
    int open_after, close_after;
    const char *seq;
    const char *events;
    /* incidents in order: start index, end index (-1 still open), first error */
    int n;
    struct {
        int start, end;
        const char *err;
    } inc[3];
};

static const struct flap_case flaps[] = {
    {2, 1, "FSFSFS", "......", 0, {{0}}},
    {2, 1, "SSSS", "....", 0, {{0}}},
    {2, 1, "FFSFF", ".OC.O", 2, {{0, 2, "m0"}, {3, -1, "m3"}}},
    {2, 3, "FFSSFSSS", ".O.....C", 1, {{0, 5, "m0"}}},
    {1, 1, "FSF", "OCO", 2, {{0, 1, "m0"}, {2, -1, "m2"}}},
    {3, 2, "FFSFFFSFSS", ".....O...C", 1, {{3, 8, "m3"}}},
    {2, 1, "FFFFS", ".O..C", 1, {{0, 4, "m0"}}},
};

static void run_flap(const struct flap_case *c)
{
    struct ys_incident_tracker t;
    ys_incident_tracker_init(&t, 7, c->open_after, c->close_after);
    int seen = 0;
    for (size_t i = 0; c->seq[i]; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%zu", i);
        bool ok = c->seq[i] == 'S';
        struct ys_incident out;
        memset(&out, 0xAB, sizeof out);
        enum ys_incident_event ev =
            ys_incident_feed(&t, (int64_t)i * STEP, ok, ok ? "" : msg, &out);
        char got = ev == YS_INCIDENT_OPENED ? 'O' : ev == YS_INCIDENT_CLOSED ? 'C' : '.';
        if (got != c->events[i])
            fail_msg("%s (open %d close %d) at %zu: event %c, want %c", c->seq, c->open_after,
                     c->close_after, i, got, c->events[i]);
        if (ev == YS_INCIDENT_NONE)
            continue;
        int k = ev == YS_INCIDENT_OPENED ? seen : seen - 1;
        assert_true(k >= 0 && k < c->n);
        assert_int_equal(out.check_id, 7);
        assert_int_equal(out.start_ms, (int64_t)c->inc[k].start * STEP);
        assert_string_equal(out.first_error, c->inc[k].err);
        if (ev == YS_INCIDENT_OPENED) {
            assert_int_equal(out.end_ms, 0);
            seen++;
        } else {
            assert_int_equal(out.end_ms, (int64_t)c->inc[k].end * STEP);
        }
    }
    assert_int_equal(seen, c->n);
    bool open_at_end = c->n > 0 && c->inc[c->n - 1].end == -1;
    assert_int_equal(t.open, open_at_end);
}

static void test_flapping(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof flaps / sizeof flaps[0]; i++)
        run_flap(&flaps[i]);
}

static void test_defaults_and_resume(void **state)
{
    (void)state;
    struct ys_incident_tracker t;
    ys_incident_tracker_init(&t, 3, 0, -1);
    assert_int_equal(t.open_after, 2);
    assert_int_equal(t.close_after, 1);
    struct ys_incident open = {3, 5000, 0, "connection refused"};
    ys_incident_tracker_resume(&t, &open);
    struct ys_incident out;
    /* Still failing after the restart: nothing new opens. */
    assert_int_equal(ys_incident_feed(&t, 8000, false, "timeout", &out), YS_INCIDENT_NONE);
    assert_int_equal(ys_incident_feed(&t, 9000, true, NULL, &out), YS_INCIDENT_CLOSED);
    assert_int_equal(out.start_ms, 5000);
    assert_int_equal(out.end_ms, 9000);
    assert_string_equal(out.first_error, "connection refused");
    /* A NULL message on a failure becomes "". */
    assert_int_equal(ys_incident_feed(&t, 10000, false, NULL, &out), YS_INCIDENT_NONE);
    assert_int_equal(ys_incident_feed(&t, 11000, false, "x", NULL), YS_INCIDENT_OPENED);
    assert_string_equal(t.current.first_error, "");
}

struct stats_case {
    const char *why;
    int64_t start, end, now;
    size_t n;
    struct ys_incident v[6];
    size_t count;
    int64_t downtime, longest, mttr, mtbf;
};

static const struct stats_case stats[] = {
    /* A [-10,5) clips to 5; B 10; C 2; D [95,120) clips to 5; E, F outside.
     * downtime 22, longest 10, MTTR over full durations (15+10+2+25)/4 = 13,
     * MTBF (100 - 22) / 4 = 19 (integer ms). */
    {"clipped",
     0,
     100,
     200,
     6,
     {{1, -10, 5, ""},
      {1, 20, 30, ""},
      {1, 50, 52, ""},
      {1, 95, 120, ""},
      {1, 150, 160, ""},
      {1, -50, -20, ""}},
     4,
     22,
     10,
     13,
     19},
    /* B closed 10; G open since 70, now 80: 10 so far. MTTR of B only.
     * MTBF over the elapsed 80: (80 - 20) / 2 = 30. */
    {"open incident", 0, 100, 80, 2, {{1, 70, 0, ""}, {1, 20, 30, ""}}, 2, 20, 10, 10, 30},
    {"none", 0, 100, 200, 0, {{0}}, 0, 0, 0, -1, -1},
    /* Ends exactly at the window start / starts exactly at its end: outside.
     * (end_ms 0 means open, so this window does not start at 0.) */
    {"edges", 1000, 1100, 2000, 2, {{1, 990, 1000, ""}, {1, 1100, 1110, ""}}, 0, 0, 0, -1, -1},
    /* Open since before the window, now 50: all 50 ms down, MTBF 0. */
    {"open across start", 0, 100, 50, 1, {{1, -10, 0, ""}}, 1, 50, 50, -1, 0},
    /* Open incident and now past the end: clipped at the end. */
    {"open past end", 0, 100, 500, 1, {{1, 60, 0, ""}}, 1, 40, 40, -1, 60},
};

static void test_stats(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
        const struct stats_case *c = &stats[i];
        struct ys_incident_stats s;
        ys_incident_stats(c->v, c->n, c->start, c->end, c->now, &s);
        if (s.count != c->count || s.downtime_ms != c->downtime || s.longest_ms != c->longest ||
            s.mttr_ms != c->mttr || s.mtbf_ms != c->mtbf)
            fail_msg("%s: count %zu down %lld longest %lld mttr %lld mtbf %lld", c->why, s.count,
                     (long long)s.downtime_ms, (long long)s.longest_ms, (long long)s.mttr_ms,
                     (long long)s.mtbf_ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flapping),
        cmocka_unit_test(test_defaults_and_resume),
        cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
