/*
 * test_utf8.c - ys_utf8_scrub (core/utf8.h): well-formed text is left
 * alone, every byte of an ill-formed sequence becomes '?', the length is
 * kept, and the writer scrubs a result's texts before they are stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/utf8.h"

#include <string.h>

static void test_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        size_t replaced;
    } rows[] = {
        {"", "", 0},
        {"plain ascii", "plain ascii", 0},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0},
        {"Latin-1 caf\xe9!", "Latin-1 caf?!", 1},
        {"\xc0\xaf overlong", "?? overlong", 2},
        {"\xe0\x80\xaf overlong3", "??? overlong3", 3},
        {"\xed\xa0\x80 surrogate", "??? surrogate", 3},
        {"\xf4\x90\x80\x80 too big", "???? too big", 4},
        {"\xf5\x80\x80\x80 f5", "???? f5", 4},
        {"cut \xe2\x82", "cut ??", 2},
        {"\x80 lone continuation", "? lone continuation", 1},
        {"\xc3\x28 bad second", "?( bad second", 1},
        {"\xef\xbf\xbd replacement char", "\xef\xbf\xbd replacement char", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[64];
        strcpy(buf, rows[i].in);
        size_t n = ys_utf8_scrub(buf, sizeof buf);
        if (strcmp(buf, rows[i].out) != 0 || n != rows[i].replaced)
            fail_msg("row %zu: got '%s' (%zu replaced), want '%s' (%zu)", i, buf, n, rows[i].out,
                     rows[i].replaced);
    }
}

/* Not terminated within size: cut at size - 1, and a sequence cut there
 * is replaced. */
static void test_unterminated(void **state)
{
    (void)state;
    char buf[6] = {'a', 'b', 'c', 'd', '\xc3', '\xa9'};
    assert_int_equal(ys_utf8_scrub(buf, sizeof buf), 1);
    assert_string_equal(buf, "abcd?");
    assert_int_equal(ys_utf8_scrub(NULL, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_unterminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
