/*
 * fuzz_config.c - libFuzzer target for the whole configuration loader:
 * YAML -> node tree -> model, including every probe kind's parser.
 *
 * Any input must end in either a config or diagnostics, never a crash, a
 * leak or an abort; the loader caps input at 16 MiB and nesting at 64
 * levels, so time and stack use are bounded too. Seeds live in
 * tests/fuzz/corpus/config/.
 */
#include "config/diag.h"
#include "config/model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ys_diag d;
    struct ys_config *c = NULL;
    ys_diag_init(&d, "fuzz.yaml");
    if (ys_config_load_string((const char *)data, size, &c, &d) == 0)
        ys_config_unref(c);
    /* Printing walks and sorts every entry; a sink keeps it quiet. */
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        ys_diag_print(&d, sink);
        fclose(sink);
    }
    ys_diag_free(&d);
    return 0;
}
