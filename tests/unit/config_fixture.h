/*
 * config_fixture.h - load a configuration from a string and assert on its
 * diagnostics, for the unit tests of each kind's parser (test_tcp_spec,
 * test_dns_spec, ...). Header only: every test is its own executable.
 * Include after <cmocka.h>.
 */
#ifndef YS_TESTS_CONFIG_FIXTURE_H
#define YS_TESTS_CONFIG_FIXTURE_H

#include "config/diag.h"
#include "config/model.h"

#include <stdio.h>
#include <string.h>

struct loaded {
    int rc;
    struct ys_config *cfg;
    struct ys_diag diag;
};

static void load(struct loaded *l, const char *yaml)
{
    ys_diag_init(&l->diag, "t.yaml");
    l->cfg = NULL;
    l->rc = ys_config_load_string(yaml, strlen(yaml), &l->cfg, &l->diag);
}

static void unload(struct loaded *l)
{
    ys_config_unref(l->cfg);
    ys_diag_free(&l->diag);
}

/* Prints every diagnostic, so a failing assertion shows what was said. */
static void dump(const struct loaded *l)
{
    for (size_t i = 0; i < l->diag.n; i++)
        fprintf(stderr, "  diag %d:%d: %s\n", l->diag.v[i].line, l->diag.v[i].col,
                l->diag.v[i].msg);
}

/* Asserts that an entry at line:col contains text. */
static void assert_diag(const struct loaded *l, int line, int col, const char *text)
{
    for (size_t i = 0; i < l->diag.n; i++)
        if (l->diag.v[i].line == line && l->diag.v[i].col == col && strstr(l->diag.v[i].msg, text))
            return;
    dump(l);
    fail_msg("no diagnostic at %d:%d containing \"%s\"", line, col, text);
}

#endif
