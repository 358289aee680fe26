/*
 * test_assets.c - the embedded dashboard (web/assets.h): "/" serves
 * index.html, every file carries the content type its extension calls
 * for, the table is sorted (the lookup's binary search depends on it) and
 * paths outside it, including traversal attempts, are not found.
 */
#include "core/err.h"
#include "web/assets.h"
#include "web/assets_data.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_root_is_index(void **state)
{
    (void)state;
    const unsigned char *d1 = NULL, *d2 = NULL;
    size_t l1 = 0, l2 = 0;
    const char *t1 = NULL, *t2 = NULL;
    assert_int_equal(ys_web_assets_find("/", &d1, &l1, &t1), 0);
    assert_int_equal(ys_web_assets_find("/index.html", &d2, &l2, &t2), 0);
    assert_ptr_equal(d1, d2);
    assert_int_equal(l1, l2);
    assert_string_equal(t1, "text/html; charset=utf-8");
    assert_true(l1 > 100);
    /* The page the server sends must be the dashboard, not a stray file. */
    assert_non_null(memmem(d1, l1, "<!doctype html>", 15));
    assert_non_null(memmem(d1, l1, "app.js", 6));
}

static void test_content_types(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *type;
    } cases[] = {
        {"/app.css", "text/css; charset=utf-8"},
        {"/app.js", "text/javascript; charset=utf-8"},
        {"/vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"},
        {"/vendor/uPlot.min.css", "text/css; charset=utf-8"},
        {"/vendor/LICENSE", "text/plain; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const unsigned char *d = NULL;
        size_t l = 0;
        const char *t = NULL;
        int rc = ys_web_assets_find(cases[i].path, &d, &l, &t);
        if (rc != 0)
            fail_msg("%s: rc %d", cases[i].path, rc);
        assert_string_equal(t, cases[i].type);
        assert_true(l > 0);
    }
}

static void test_not_found(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "",           "index.html",   "/nope.js",     "/../CMakeLists.txt",
        "/vendor",    "/vendor/",     "//index.html", "/package.json",
        "/README.md", "/index.html/", "/INDEX.HTML",  "/node_modules/uplot/package.json",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const unsigned char *d = NULL;
        size_t l = 7;
        const char *t = NULL;
        int rc = ys_web_assets_find(paths[i], &d, &l, &t);
        if (rc != YS_ENOTFOUND)
            fail_msg("'%s': rc %d, want YS_ENOTFOUND", paths[i], rc);
        assert_null(d);
        assert_int_equal(l, 7);
    }
    const unsigned char *d = NULL;
    size_t l = 0;
    const char *t = NULL;
    assert_int_equal(ys_web_assets_find(NULL, &d, &l, &t), YS_ENOTFOUND);
}

static void test_table_sorted_and_complete(void **state)
{
    (void)state;
    assert_true(ys_web_assets_count >= 6);
    for (size_t i = 0; i < ys_web_assets_count; i++) {
        const struct ys_web_asset *a = &ys_web_assets_table[i];
        assert_int_equal(a->path[0], '/');
        if (i > 0 && strcmp(ys_web_assets_table[i - 1].path, a->path) >= 0)
            fail_msg("table not sorted at %s", a->path);
        /* Every entry is reachable through the public lookup. */
        const unsigned char *d = NULL;
        size_t l = 0;
        const char *t = NULL;
        assert_int_equal(ys_web_assets_find(a->path, &d, &l, &t), 0);
        assert_ptr_equal(d, a->data);
        assert_int_equal(l, a->len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_is_index),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_table_sorted_and_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
