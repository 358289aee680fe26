/*
 * store_fixture.h - a temporary SQLite store for the unit tests that need
 * a real one (test_store, test_store_incidents, test_live_incidents).
 *
 * Each test runs with a fresh folder under /tmp, removed afterwards. Header
 * only: every test is its own executable, so these are static and each test
 * gets its own copy of the folder name. Include after <cmocka.h>.
 */
#ifndef YS_TESTS_STORE_FIXTURE_H
#define YS_TESTS_STORE_FIXTURE_H

#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static char fixture_dir[64], path[128];

/* Makes a fresh folder; the store file is `path` inside it, under subdir
 * ("" for the folder itself). */
static int fixture_setup(const char *subdir)
{
    snprintf(fixture_dir, sizeof fixture_dir, "/tmp/ys_test_XXXXXX");
    assert_non_null(mkdtemp(fixture_dir));
    snprintf(path, sizeof path, "%s/%st.db", fixture_dir, subdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Opens the store at path, with raw retention raw_ms (0: forever). */
static struct ys_store *fixture_open(bool read_only, int64_t raw_ms)
{
    struct ys_store_options opt = {.path = path, .read_only = read_only};
    opt.retention.raw_ms = raw_ms;
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    if (ys_store_open("sqlite", &opt, &s, &err) < 0)
        fail_msg("open: %s", err.msg);
    return s;
}

#endif
