/*
 * test_instance.c - the instance: section (src/config/model_instance.c)
 * and the shard rule (config/instance.h): defaults, parsing, FILE:LINE:COL
 * errors, and the hash pinned to values computed by hand (FNV-1a 64 of
 * the name's bytes), because users predict shards from docs/ha.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config_fixture.h"

#include "config/instance.h"

#include <stdlib.h>
#include <unistd.h>

#define CHECKS "checks:\n  - { name: a, kind: tcp, address: \"127.0.0.1:1\" }\n"

static void test_defaults(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, CHECKS);
    assert_int_equal(l.rc, 0);
    const struct ys_instance_config *ic = &l.cfg->instance;
    char want[300], host[256];
    assert_int_equal(gethostname(host, sizeof host), 0);
    snprintf(want, sizeof want, "%s/%ld", host, (long)getpid());
    assert_string_equal(ic->id, want);
    assert_string_equal(ic->location, "default");
    assert_int_equal(ic->shard_index, 0);
    assert_int_equal(ic->shard_count, 0);
    assert_int_equal(ic->lease_ttl_ms, 15000);
    assert_true(ys_instance_probes(ic, "anything"));
    unload(&l);
}

static void test_parsed(void **state)
{
    (void)state;
    struct loaded l;
    load(&l,
         "instance: { id: \"eu-1/a\", location: eu-west, shard: \"2/3\", lease_ttl: 9s }\n" CHECKS);
    dump(&l);
    assert_int_equal(l.rc, 0);
    const struct ys_instance_config *ic = &l.cfg->instance;
    assert_string_equal(ic->id, "eu-1/a");
    assert_string_equal(ic->location, "eu-west");
    assert_int_equal(ic->shard_index, 2);
    assert_int_equal(ic->shard_count, 3);
    assert_int_equal(ic->lease_ttl_ms, 9000);
    unload(&l);
}

/* A check with locations is probed only from those; sharding then
 * applies among the daemons there. */
static void test_locations_and_shard(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "instance: { location: eu-west }\n"
             "checks:\n"
             "  - { name: a, kind: tcp, address: \"127.0.0.1:1\", locations: [home, eu-west] }\n"
             "  - { name: b, kind: tcp, address: \"127.0.0.1:1\", locations: [home] }\n"
             "  - { name: c, kind: tcp, address: \"127.0.0.1:1\" }\n");
    dump(&l);
    assert_int_equal(l.rc, 0);
    struct ys_instance_config *ic = &l.cfg->instance;
    assert_true(ys_instance_probes_check(ic, &l.cfg->checks[0]));
    assert_false(ys_instance_probes_check(ic, &l.cfg->checks[1]));
    assert_true(ys_instance_probes_check(ic, &l.cfg->checks[2]));
    ic->shard_count = 2; /* a's shard among two, then the other one */
    ic->shard_index = ys_shard_of("a", 2);
    assert_true(ys_instance_probes_check(ic, &l.cfg->checks[0]));
    ic->shard_index = 3 - ic->shard_index;
    assert_false(ys_instance_probes_check(ic, &l.cfg->checks[0]));
    ic->shard_count = 0;
    unload(&l);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int line, col;
        const char *text;
    } cases[] = {
        {"instance: { shard: \"0/3\" }\n", 1, 20, "1 <= i <= n"},
        {"instance: { shard: \"4/3\" }\n", 1, 20, "1 <= i <= n"},
        {"instance: { shard: 3 }\n", 1, 20, "\"i/n\""},
        {"instance: { shard: \"1/x\" }\n", 1, 20, "\"i/n\""},
        {"instance: { shard: \"1/2 \" }\n", 1, 20, "\"i/n\""},
        {"instance:\n  lease_ttl: 1s\n", 2, 14, "between 3s and 1h"},
        {"instance:\n  location: \"eu west\"\n", 2, 13, "bad instance.location"},
        {"instance:\n  id: \"\"\n", 2, 7, "instance.id"},
        {"instance:\n  shrad: \"1/2\"\n", 2, 3, "shard"},
        {"instance: [a]\n", 1, 11, "must be a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "%s%s", cases[i].yaml, CHECKS);
        struct loaded l;
        load(&l, yaml);
        assert_int_equal(l.rc, YS_ECONFIG);
        assert_diag(&l, cases[i].line, cases[i].col, cases[i].text);
        unload(&l);
    }
}

/* FNV-1a 64 by hand: the empty string is the offset basis; "a" is
 * (basis ^ 0x61) * prime mod 2^64 = 0xaf63dc4c8601ec8c (the published
 * test vector). */
static void test_hash_pinned(void **state)
{
    (void)state;
    assert_true(ys_shard_hash("") == UINT64_C(0xcbf29ce484222325));
    assert_true(ys_shard_hash("a") == UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(ys_shard_hash("foobar") == UINT64_C(0x85944171f73967e8));
    /* 0x85944171f73967e8 % 3 == 0, so "foobar" is shard 1 of 3. */
    assert_int_equal(ys_shard_of("foobar", 3), 1);
    assert_int_equal(ys_shard_of("a", 1), 1);
}

/* Every check belongs to exactly one shard, and a thousand names spread
 * over four shards roughly evenly. */
static void test_partition(void **state)
{
    (void)state;
    int counts[5] = {0};
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "check-%d", i);
        int owners = 0;
        for (int s = 1; s <= 4; s++) {
            struct ys_instance_config ic = {.shard_index = s, .shard_count = 4};
            if (ys_instance_probes(&ic, name)) {
                owners++;
                counts[s]++;
            }
        }
        assert_int_equal(owners, 1);
    }
    for (int s = 1; s <= 4; s++)
        assert_in_range(counts[s], 180, 320);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_parsed),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_hash_pinned),
        cmocka_unit_test(test_partition),  cmocka_unit_test(test_locations_and_shard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
