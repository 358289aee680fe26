/*
 * check_output.c - the three ways `check` prints its outcomes: an aligned
 * table for people, a JSON array for scripts, JUnit XML for CI systems.
 */
#include "cli/cli.h"

#include "probe/probe.h"

#include <string.h>
#include <time.h>

static void detail(const struct ys_result *r, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    if (r->status)
        pos += (size_t)snprintf(buf + pos, size - pos, "status %u", r->status);
    if ((r->flags & YS_RF_HAS_TLS) && pos < size)
        pos += (size_t)snprintf(buf + pos, size - pos, "%scert %lld days left", pos ? ", " : "",
                                (long long)ys_tls_days_left(&r->tls, (int64_t)time(NULL)));
    if (!r->ok && pos < size)
        snprintf(buf + pos, size - pos, "%s%s: %s", pos ? "; " : "", ys_errclass_name(r->errclass),
                 r->message);
}

void ys_print_table(FILE *out, const struct ys_check_outcome *v, size_t n)
{
    int w = 5;
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(v[i].check->name);
        if (len > w)
            w = len;
    }
    fprintf(out, "%-*s  %-6s  %-4s  %9s  %s\n", w, "CHECK", "KIND", "OK", "TIME", "DETAIL");
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ys_result *r = &v[i].result;
        char d[512];
        detail(r, d, sizeof d);
        fprintf(out, "%-*s  %-6s  %-4s  %7.1fms  %s\n", w, v[i].check->name,
                v[i].check->type->name, r->ok ? "ok" : "FAIL", (double)r->duration_us / 1000.0, d);
        failed += !r->ok;
    }
    fprintf(out, "\n%zu checks, %zu passed, %zu failed\n", n, n - failed, failed);
}

void ys_print_json(FILE *out, const struct ys_check_outcome *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, ys_result_to_json(v[i].check->name, v[i].check->type->name,
                                                     &v[i].result));
    json_dumpf(arr, out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    fputc('\n', out);
    json_decref(arr);
}

static void xml_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, out);
        }
    }
}

void ys_print_junit(FILE *out, const struct ys_check_outcome *v, size_t n, double total_s)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !v[i].result.ok;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out, "<testsuites name=\"yardstick\" tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", n,
            failed, total_s);
    fprintf(out, "  <testsuite name=\"yardstick check\" tests=\"%zu\" failures=\"%zu\" "
                 "time=\"%.3f\">\n", n, failed, total_s);
    for (size_t i = 0; i < n; i++) {
        const struct ys_result *r = &v[i].result;
        fprintf(out, "    <testcase name=\"");
        xml_escaped(out, v[i].check->name);
        fprintf(out, "\" classname=\"%s\" time=\"%.3f\"", v[i].check->type->name,
                (double)r->duration_us / 1e6);
        if (r->ok) {
            fprintf(out, "/>\n");
            continue;
        }
        fprintf(out, ">\n      <failure type=\"%s\" message=\"", ys_errclass_name(r->errclass));
        xml_escaped(out, r->message);
        fprintf(out, "\"/>\n    </testcase>\n");
    }
    fprintf(out, "  </testsuite>\n</testsuites>\n");
}
