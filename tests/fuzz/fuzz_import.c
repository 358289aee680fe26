/*
 * fuzz_import.c - libFuzzer target for `yardstick import goals`: Markdown
 * bytes -> plan -> goals YAML -> the configuration loader.
 *
 * Any input must end in either YAML or an error message, never a crash, a
 * leak or an abort. And whatever YAML the importer writes must load with
 * no diagnostic at all: a goals file the importer emits but `yardstick
 * validate` rejects is a bug, so it aborts here. Seeds live in
 * tests/fuzz/corpus/import/ (the seed plan among them).
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "import/markdown_goals.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ys_err err = {{0}};
    char *yaml = NULL;
    if (ys_import_goals_markdown((const char *)data, size, "fuzz.md", 2025, &yaml, &err) != 0) {
        if (!strstr(err.msg, "fuzz.md:"))
            abort(); /* every error names the document */
        return 0;
    }
    struct ys_diag d;
    struct ys_config *c = NULL;
    ys_diag_init(&d, "imported.yaml");
    int rc = ys_config_load_string(yaml, strlen(yaml), &c, &d);
    if (rc != 0 || d.n != 0) {
        ys_diag_print(&d, stderr);
        fputs(yaml, stderr);
        abort();
    }
    ys_config_unref(c);
    ys_diag_free(&d);
    free(yaml);
    return 0;
}
