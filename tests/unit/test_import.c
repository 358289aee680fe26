/*
 * test_import.c - `yardstick import goals`: the seed plan
 * (tests/data/goals-2025.md, a copy of the document this project was made
 * for) imported goal by goal, milestones, actions, mis-encoded headings,
 * invalid UTF-8, unreadable layouts, the date and slug helpers, and the
 * emitted YAML loaded back through the config loader with no diagnostics.
 *
 * Expected values are counted by hand from the seed: 34 goals (Kubernetes
 * 4, GitOps 3, Networking 3, Registry 3, Storage 3, Knative 4 versions + 4
 * metrics x 2 quarter columns, Homepage 3, Cloudflare 3), 9 milestones (5
 * from its table, Q1..Q4 from the quarter columns) and 33 actions.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "import/goal_table.h"
#include "import/markdown_goals.h"
#include "slo/target.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *read_seed(size_t *len)
{
    const char *src = getenv("YS_SOURCE_DIR");
    char path[4096];
    if (src)
        snprintf(path, sizeof path, "%s/tests/data/goals-2025.md", src);
    else {
        /* __FILE__ is tests/unit/test_import.c as the compiler was given it
         * (CMake passes absolute paths). */
        const char *unit = strstr(__FILE__, "unit/test_import.c");
        int dir = unit ? (int)(unit - __FILE__) : 0;
        snprintf(path, sizeof path, "%.*sdata/goals-2025.md", dir, __FILE__);
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[1 << 16];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static void parse_seed(struct ys_md_plan *p)
{
    size_t len;
    const char *text = read_seed(&len);
    struct ys_err err = {{0}};
    int rc = ys_md_goals_parse(text, len, "goals-2025.md", 1999, p, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
}

static const struct ys_md_goal *goal(const struct ys_md_plan *p, const char *id)
{
    for (size_t i = 0; i < p->n_goals; i++)
        if (strcmp(p->goals[i].id, id) == 0)
            return &p->goals[i];
    fail_msg("no goal %s", id);
    return NULL;
}

static void test_seed_counts(void **state)
{
    (void)state;
    struct ys_md_plan p;
    parse_seed(&p);
    assert_int_equal(p.n_goals, 34);
    assert_int_equal(p.n_milestones, 9);
    assert_int_equal(p.n_actions, 33);
    assert_string_equal(p.title, "Infrastructure Goals 2025");
    assert_int_equal(p.year, 2025); /* from the title, not default_year */
    static const struct {
        const char *area;
        size_t goals, actions;
    } areas[] = {
        {"Kubernetes Cluster Reliability", 4, 4},
        {"GitOps & Flux", 3, 4},
        {"Networking", 3, 3},
        {"Container Registry", 3, 4},
        {"Storage", 3, 4},
        {"Knative Lambda Operator", 12, 0},
        {"Homepage", 3, 4},
        {"Cloudflare Integration", 3, 3},
        {"Infrastructure Metrics Dashboard", 0, 7},
    };
    size_t total_goals = 0, total_actions = 0;
    for (size_t a = 0; a < sizeof areas / sizeof areas[0]; a++) {
        size_t ng = 0, na = 0;
        for (size_t i = 0; i < p.n_goals; i++)
            ng += strcmp(p.goals[i].area, areas[a].area) == 0;
        for (size_t i = 0; i < p.n_actions; i++)
            na += strcmp(p.actions[i].area, areas[a].area) == 0;
        if (ng != areas[a].goals || na != areas[a].actions)
            fail_msg("%s: %zu goals, %zu actions", areas[a].area, ng, na);
        total_goals += ng;
        total_actions += na;
    }
    assert_int_equal(total_goals, p.n_goals);
    assert_int_equal(total_actions, p.n_actions);
    ys_md_plan_free(&p);
}

static void test_seed_goals(void **state)
{
    (void)state;
    static const struct {
        const char *id, *title, *area;
        int priority;
        const char *baseline, *target, *due;
        enum ys_target_unit unit;
        int line;
    } want[] = {
        {"kubernetes-cluster-reliability-node-availability", "Node availability",
         "Kubernetes Cluster Reliability", 0, "~95%", ">= 99.5%", "2025-12-31", YS_TU_PERCENT, 15},
        {"kubernetes-cluster-reliability-etcd-backup-frequency", "etcd backup frequency",
         "Kubernetes Cluster Reliability", 0, "Manual", "Hourly", "2025-12-31", YS_TU_FRESHNESS,
         16},
        {"kubernetes-cluster-reliability-resource-utilization", "Resource utilization",
         "Kubernetes Cluster Reliability", 2, "~40%", "60-80%", "2025-12-31", YS_TU_PERCENT, 18},
        {"gitops-flux-rollback-time", "Rollback time", "GitOps & Flux", 1, "~30min", "< 5min",
         "2025-12-31", YS_TU_SECONDS, 32},
        {"networking-tls-cert-renewal", "TLS cert renewal", "Networking", 0, "Manual", "Automated",
         "2025-12-31", YS_TU_BOOL, 46},
        {"container-registry-image-scan-before-push", "Image scan before push",
         "Container Registry", -1, "No", "Yes", "2025-12-31", YS_TU_BOOL, 63},
        {"storage-snapshot-automation", "Snapshot automation", "Storage", 1, "Manual", "Daily",
         "2025-12-31", YS_TU_FRESHNESS, 79},
        {"knative-lambda-operator-version-q1", "Knative Lambda Operator version Q1",
         "Knative Lambda Operator", -1, NULL, ">= 1.12.0", "2025-03-31", YS_TU_VERSION, 95},
        {"knative-lambda-operator-version-q4", "Knative Lambda Operator version Q4",
         "Knative Lambda Operator", -1, NULL, ">= 2.0.0", "2025-12-31", YS_TU_VERSION, 98},
        {"knative-lambda-operator-cold-start-p50-q2", "Cold start P50 (Q2)",
         "Knative Lambda Operator", -1, "3s", "<= 2s", "2025-06-30", YS_TU_SECONDS, 104},
        {"knative-lambda-operator-memory-per-lambda-q4", "Memory per lambda (Q4)",
         "Knative Lambda Operator", -1, "256Mi", "<= 64Mi", "2025-12-31", YS_TU_BYTES, 106},
        {"homepage-load-time-p95", "Load time P95", "Homepage", -1, "3s", "< 2s", "2025-12-31",
         YS_TU_SECONDS, 118},
        {"cloudflare-integration-tunnel-reconnect-time", "Tunnel reconnect time",
         "Cloudflare Integration", -1, "60s", "< 30s", "2025-12-31", YS_TU_SECONDS, 134},
    };
    struct ys_md_plan p;
    parse_seed(&p);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct ys_md_goal *g = goal(&p, want[i].id);
        assert_string_equal(g->title, want[i].title);
        assert_string_equal(g->area, want[i].area);
        assert_int_equal(g->priority, want[i].priority);
        if (want[i].baseline)
            assert_string_equal(g->baseline, want[i].baseline);
        else
            assert_null(g->baseline);
        assert_non_null(g->target);
        assert_string_equal(g->target, want[i].target);
        assert_string_equal(g->due, want[i].due);
        assert_int_equal(g->line, want[i].line);
        struct ys_target t;
        char e[128];
        assert_int_equal(ys_target_parse(g->target, &t, e, sizeof e), 0);
        assert_int_equal(t.unit, want[i].unit);
    }
    /* Every goal of the seed has a typed target and a due date. */
    for (size_t i = 0; i < p.n_goals; i++) {
        assert_non_null(p.goals[i].target);
        assert_non_null(p.goals[i].due);
    }
    ys_md_plan_free(&p);
}

static void test_seed_milestones(void **state)
{
    (void)state;
    static const struct {
        const char *title, *due;
        size_t goals;
    } want[] = {
        {"Backup automation", "2025-01-31", 0}, {"99% Flux success", "2025-03-31", 0},
        {"Q1 2025", "2025-03-31", 1},           {"Multi-arch complete", "2025-06-30", 0},
        {"Q2 2025", "2025-06-30", 5},           {"99.5% availability", "2025-09-30", 0},
        {"Q3 2025", "2025-09-30", 1},           {"DR tested", "2025-12-31", 0},
        {"Q4 2025", "2025-12-31", 5},
    };
    struct ys_md_plan p;
    parse_seed(&p);
    assert_int_equal(p.n_milestones, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < p.n_milestones; i++) {
        assert_string_equal(p.milestones[i].title, want[i].title);
        assert_string_equal(p.milestones[i].due, want[i].due);
        assert_int_equal(p.milestones[i].n_goal_ids, want[i].goals);
    }
    assert_string_equal(p.milestones[0].note, "Full backup coverage");
    assert_string_equal(p.milestones[4].goal_ids[0], "knative-lambda-operator-version-q2");
    assert_string_equal(p.milestones[4].goal_ids[4], "knative-lambda-operator-reconcile-time-q2");
    assert_string_equal(goal(&p, "knative-lambda-operator-version-q2")->note,
                        "Key Features: Multi-cluster support");
    ys_md_plan_free(&p);
}

static void test_seed_actions(void **state)
{
    (void)state;
    struct ys_md_plan p;
    parse_seed(&p);
    assert_string_equal(p.actions[0].title, "Implement automated etcd backups to S3");
    assert_string_equal(p.actions[3].title, "Implement node auto-repair");
    assert_int_equal(p.actions[3].line, 24);
    assert_string_equal(p.actions[32].title, "Certificate expiry countdown");
    for (size_t i = 0; i < p.n_actions; i++)
        assert_false(p.actions[i].done);
    ys_md_plan_free(&p);
}

/* Loads yaml through the real config loader; fails on any diagnostic. */
static struct ys_config *load_yaml(const char *yaml)
{
    struct ys_diag d;
    struct ys_config *c = NULL;
    ys_diag_init(&d, "imported.yaml");
    int rc = ys_config_load_string(yaml, strlen(yaml), &c, &d);
    if (rc != 0 || d.n != 0) {
        ys_diag_print(&d, stderr);
        fprintf(stderr, "%s", yaml);
        ys_diag_free(&d);
        fail_msg("the imported YAML has %zu diagnostics", d.n);
    }
    ys_diag_free(&d);
    return c;
}

static void test_seed_yaml_loads(void **state)
{
    (void)state;
    size_t len;
    const char *text = read_seed(&len);
    char *yaml = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_import_goals_markdown(text, len, "goals-2025.md", 0, &yaml, &err), 0);
    assert_non_null(
        strstr(yaml, "# Goals imported by `yardstick import goals` from goals-2025.md"));
    struct ys_config *c = load_yaml(yaml);
    assert_int_equal(c->n_goals, 34);
    assert_int_equal(c->n_milestones, 9);
    assert_int_equal(c->n_actions, 33);
    const struct ys_goal *g =
        ys_config_find_goal(c, "kubernetes-cluster-reliability-node-availability");
    assert_non_null(g);
    assert_int_equal(g->priority, 0);
    assert_string_equal(g->baseline, "~95%");
    assert_string_equal(g->area, "Kubernetes Cluster Reliability");
    assert_int_equal(g->target.unit, YS_TU_PERCENT);
    assert_int_equal(g->target.op, YS_TOP_GE);
    assert_true(g->target.lo == 99.5);
    assert_string_equal(g->due_text, "2025-12-31");
    assert_int_equal(g->measure.kind, YS_MEASURE_MANUAL);
    g = ys_config_find_goal(c, "kubernetes-cluster-reliability-resource-utilization");
    assert_int_equal(g->target.op, YS_TOP_RANGE);
    assert_true(g->target.lo == 60 && g->target.hi == 80);
    assert_string_equal(c->milestones[4].title, "Q2 2025");
    assert_int_equal(c->milestones[4].goal_ids.n, 5);
    ys_config_unref(c);
    free(yaml);
}

static char *import_ok(const char *md, struct ys_md_plan *p)
{
    struct ys_err err = {{0}};
    if (ys_md_goals_parse(md, strlen(md), "t.md", 2031, p, &err) != 0)
        fail_msg("%s", err.msg);
    return ys_md_plan_to_yaml(p, "t.md");
}

static void test_mojibake_headings(void **state)
{
    (void)state;
    const char *md = "# \xc3\xb0\xc5\xb8\xc5\xbd\xc2\xaf Plan\n\n"
                     "## \xf0\x9f\x8e\xaf Key Targets\n\n"
                     "### 2. \xf0\x9f\x9a\x80 \xc3\x89quipe R\xc3\xa9seau \xe2\x9c\x85\n\n"
                     "| Target | Goal |\n|---|---|\n| Uptime | 99% |\n\n"
                     "## \xf0\x9f\x8e\xaf\n\n- [x] done thing\n- [ ] open thing\n"
                     "  - [X] nested done\n";
    struct ys_md_plan p;
    char *yaml = import_ok(md, &p);
    assert_string_equal(p.title, "Plan");
    assert_int_equal(p.n_goals, 1);
    assert_string_equal(p.goals[0].area, "\xc3\x89quipe R\xc3\xa9seau");
    assert_string_equal(p.goals[0].id, "quipe-r-seau-uptime");
    assert_null(p.goals[0].due); /* no year in the title: plain goals have no due date */
    assert_int_equal(p.n_actions, 3);
    assert_true(p.actions[0].done);
    assert_false(p.actions[1].done);
    assert_string_equal(p.actions[1].title, "open thing");
    assert_true(p.actions[2].done);
    assert_string_equal(p.actions[2].title, "nested done");
    /* An emoji-only heading names nothing: the H1 is the area. */
    assert_string_equal(p.actions[0].area, "Plan");
    struct ys_config *c = load_yaml(yaml);
    assert_string_equal(c->goals[0].area, "\xc3\x89quipe R\xc3\xa9seau");
    assert_true(c->actions[0].done);
    ys_config_unref(c);
    free(yaml);
    ys_md_plan_free(&p);
}

static void test_invalid_utf8_and_escapes(void **state)
{
    (void)state;
    static const char md[] =
        "# Bad \xff\xfe bytes \xc0\x80 \xed\xa0\x80 2024\n\n"
        "| Target | Current | Goal |\n|---|---|---|\n"
        "| Quote \\\" back\\\\slash &#1; tab | a\0b | 99% |\n"
        "| \xe2\x80\xa8 sep \xef\xbb\xbf bom \xc2\x85 | x | \xf4\x90\x80\x80 |\n";
    struct ys_md_plan p;
    struct ys_err err = {{0}};
    assert_int_equal(ys_md_goals_parse(md, sizeof md - 1, "t.md", 0, &p, &err), 0);
    assert_int_equal(p.year, 2024);
    assert_non_null(strstr(p.title, "\xef\xbf\xbd"));
    assert_int_equal(p.n_goals, 2);
    assert_string_equal(p.goals[0].title, "Quote \" back\\slash \x01 tab");
    assert_string_equal(p.goals[0].baseline, "a\xef\xbf\xbd"
                                             "b");
    assert_null(p.goals[1].target); /* U+FFFD is no target */
    char *yaml = ys_md_plan_to_yaml(&p, "t\n.md");
    struct ys_config *c = load_yaml(yaml);
    assert_string_equal(c->goals[0].title, "Quote \" back\\slash \x01 tab");
    assert_string_equal(c->goals[1].title, "\xe2\x80\xa8 sep \xef\xbb\xbf bom \xc2\x85");
    assert_int_equal(c->goals[1].target.unit, YS_TU_BOOL);
    ys_config_unref(c);
    free(yaml);
    ys_md_plan_free(&p);
}

/* A title year the config would reject (found by fuzzing) is ignored. */
static void test_out_of_range_year(void **state)
{
    (void)state;
    const char *md = "# Plan 1012\n\n| Metric | Q1 Target |\n|-|-|\n| Up | 99% |\n";
    struct ys_md_plan p;
    char *yaml = import_ok(md, &p);
    assert_int_equal(p.year, 2031);
    assert_false(p.year_from_doc);
    assert_string_equal(p.goals[0].due, "2031-03-31");
    ys_config_unref(load_yaml(yaml));
    free(yaml);
    ys_md_plan_free(&p);
}

static void test_untypable_target(void **state)
{
    (void)state;
    const char *md = "# Plan 2026\n\n## Ops\n\n| Metric | Baseline | Goal | Due |\n|--|--|--|--|\n"
                     "| Toil | lots | much less | 2026-05-15 |\n| Toil | some | 50% | Q3 |\n";
    struct ys_md_plan p;
    char *yaml = import_ok(md, &p);
    assert_int_equal(p.n_goals, 2);
    assert_null(p.goals[0].target);
    assert_string_equal(p.goals[0].target_text, "much less");
    assert_string_equal(p.goals[0].due, "2026-05-15");
    assert_string_equal(p.goals[0].id, "ops-toil");
    assert_string_equal(p.goals[1].id, "ops-toil-2");
    assert_string_equal(p.goals[1].due, "2026-09-30");
    assert_string_equal(p.goals[1].baseline, "some");
    assert_non_null(strstr(yaml, "# line 7: the target \"much less\" is not a typed target"));
    assert_non_null(strstr(yaml, "    target: \"yes\"\n"));
    struct ys_config *c = load_yaml(yaml);
    assert_int_equal(c->goals[0].target.unit, YS_TU_BOOL);
    assert_int_equal(c->goals[0].measure.kind, YS_MEASURE_MANUAL);
    ys_config_unref(c);
    free(yaml);
    ys_md_plan_free(&p);
}

static void test_sections_and_default_year(void **state)
{
    (void)state;
    const char *md = "# Alpha\n\n| KPI | Now | H2 Goal | Q3 Target |\n|-|-|-|-|\n| Latency | 3s | "
                     "1s | 2s |\n\n# Beta\n\n| Milestone | When | Notes |\n|-|-|-|\n"
                     "| Launch | someday | big |\n| Beta | Feb 29, 2032 | |\n";
    struct ys_md_plan p;
    char *yaml = import_ok(md, &p);
    assert_int_equal(p.n_goals, 2);
    assert_string_equal(p.goals[0].area, "Alpha");
    assert_string_equal(p.goals[0].title, "Latency (H2 Goal)");
    assert_null(p.goals[0].due);
    assert_string_equal(p.goals[1].title, "Latency (Q3)");
    assert_string_equal(p.goals[1].due, "2031-09-30");
    /* Milestones sort by date, undated last. */
    assert_int_equal(p.n_milestones, 3);
    assert_string_equal(p.milestones[0].title, "Q3 2031");
    assert_string_equal(p.milestones[1].title, "Beta");
    assert_string_equal(p.milestones[1].due, "2032-02-29");
    assert_string_equal(p.milestones[2].title, "Launch");
    assert_null(p.milestones[2].due);
    assert_string_equal(p.milestones[2].note, "big (date as written: someday)");
    free(yaml);
    ys_md_plan_free(&p);
}

static void expect_error(const char *md, const char *msg)
{
    struct ys_md_plan p;
    struct ys_err err = {{0}};
    char *yaml = (char *)"unset";
    assert_int_equal(ys_import_goals_markdown(md, strlen(md), "plan.md", 2025, &yaml, &err),
                     YS_EINVAL);
    assert_null(yaml);
    if (!strstr(err.msg, msg))
        fail_msg("got '%s', want '%s'", err.msg, msg);
    assert_int_equal(ys_md_goals_parse(md, strlen(md), "plan.md", 2025, &p, &err), YS_EINVAL);
    ys_md_plan_free(&p);
}

static void test_unreadable_layouts(void **state)
{
    (void)state;
    expect_error("# Plan\n\nSome text.\n\n| Service | Owner |\n|---|---|\n| web | ops |\n",
                 "plan.md:5: no goals table found: expected a table with a 'Target' and a "
                 "'Goal' column");
    expect_error("# Plan\n\n- [ ] a task\n", "plan.md:1: no goals table found");
    expect_error("", "plan.md:1: no goals table found");
    /* Pipes without a delimiter row are not a table at all. */
    expect_error("intro\n| Target | Goal |\n| x | 1 |\n", "plan.md:1: no goals table found");
    expect_error("text\n\n| Target | Goal |\n|---|---|\n| | |\n",
                 "plan.md:3: the goals table has no row with a goal");
}

/* Builds a table of n rows all named "x" with a goal of 1%. */
static char *many_rows(size_t n)
{
    size_t cap = 64 + n * 12, o = 0;
    char *md = malloc(cap);
    o += (size_t)snprintf(md, cap, "| Target | Goal |\n|---|---|\n");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(md + o, cap - o, "| x | 1%% |\n");
    return md;
}

static void test_many_goals(void **state)
{
    (void)state;
    /* Identical rows get -2 .. -5000 in linear time, not quadratic. */
    char *md = many_rows(5000);
    struct ys_md_plan p;
    free(import_ok(md, &p));
    assert_int_equal(p.n_goals, 5000);
    assert_string_equal(p.goals[0].id, "general-x");
    assert_string_equal(p.goals[1].id, "general-x-2");
    assert_string_equal(p.goals[4999].id, "general-x-5000");
    ys_md_plan_free(&p);
    free(md);
    /* Past the cap: an error naming the first row that did not fit. */
    md = many_rows(YS_MD_MAX_GOALS + 5);
    struct ys_err err = {{0}};
    assert_int_equal(ys_md_goals_parse(md, strlen(md), "big.md", 2025, &p, &err), YS_ETOOBIG);
    assert_string_equal(err.msg, "big.md:10003: more than 10000 goals: split the plan");
    ys_md_plan_free(&p);
    free(md);
}

static void test_dates(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out; /* out NULL: rejected */
    } cases[] = {
        {"Jan 31, 2025", "2025-01-31"},
        {"31 December 2025", "2025-12-31"},
        {"2025-09-30", "2025-09-30"},
        {"2025-02", "2025-02-28"},
        {"Feb 29, 2024", "2024-02-29"},
        {"Feb 29, 2025", NULL},
        {"2100-02-29", NULL},
        {"2000-02-29", "2000-02-29"},
        {"March 2025", "2025-03-31"},
        {"Sept 3", "2030-09-03"},
        {"Q3 2025", "2025-09-30"},
        {"end of Q1", "2030-03-31"},
        {"H1", "2030-06-30"},
        {"Apr 31, 2025", NULL},
        {"soon", NULL},
        {"", NULL},
        {"12345", NULL},
        {"Jun 7 99", NULL},
        {"Jan 1, 1969", NULL},
        {"Dec 31, 3000", NULL},
        {"Q2 1012", NULL},
        {"1970-01-01", "1970-01-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[11] = "";
        int rc = ys_md_parse_date(cases[i].in, 2030, out);
        if (cases[i].out ? rc != 0 || strcmp(out, cases[i].out) != 0 : rc == 0)
            fail_msg("'%s': rc %d, '%s'", cases[i].in, rc, out);
    }
    int y = 1;
    assert_int_equal(ys_md_find_quarter("Q2 Target", &y), 2);
    assert_int_equal(y, 1);
    assert_int_equal(ys_md_find_quarter("Q4 2026 Target", &y), 4);
    assert_int_equal(y, 2026);
    assert_int_equal(ys_md_find_quarter("Quarter", &y), 0);
    /* A year the config would reject is no year: the plan's stands. */
    assert_int_equal(ys_md_find_quarter("Q1 1012", &y), 1);
    assert_int_equal(y, 2026);
}

static void test_slug(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Container Registry \xe2\x80\x94 GitHub (ghcr.io)", "container-registry-github-ghcr-io"},
        {"GitOps & Flux Drift  time", "gitops-flux-drift-time"},
        {"\xf0\x9f\x8e\xaf", "goal"},
        {"--A--", "a"},
        {"aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff gggg",
         "aaaaaaaaaa-bbbbbbbbbb-cccccccccc-dddddddddd-eeeeeeeeee-fffff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = ys_md_slug(cases[i].in);
        assert_string_equal(s, cases[i].out);
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_counts),
        cmocka_unit_test(test_seed_goals),
        cmocka_unit_test(test_seed_milestones),
        cmocka_unit_test(test_seed_actions),
        cmocka_unit_test(test_seed_yaml_loads),
        cmocka_unit_test(test_mojibake_headings),
        cmocka_unit_test(test_invalid_utf8_and_escapes),
        cmocka_unit_test(test_untypable_target),
        cmocka_unit_test(test_out_of_range_year),
        cmocka_unit_test(test_sections_and_default_year),
        cmocka_unit_test(test_unreadable_layouts),
        cmocka_unit_test(test_many_goals),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_slug),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
