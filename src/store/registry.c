/*
 * registry.c - the static table of store backends and the resolution
 * helpers shared by every backend.
 *
 * Adding a backend is one file and one line in `types`. Pure: any thread.
 */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

extern const struct ys_store_type ys_store_sqlite;
/* pg.c: user@host:port/db from a connection string. */
void ys_pg_label(const char *dsn, char *label, size_t size);
extern const struct ys_store_type ys_store_postgres;

static const struct ys_store_type *const types[] = {
    &ys_store_sqlite,
    &ys_store_postgres,
};

static const char *const res_names[] = {"raw", "minute", "hour", "day"};

int ys_store_open(const char *kind, const struct ys_store_options *opt, struct ys_store **out,
                  struct ys_err *err)
{
    if (!kind || !*kind)
        kind = "sqlite";
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i]->name, kind) == 0)
            return types[i]->open(opt, out, err);
    return ys_err_set(err, YS_EINVAL, "unknown store kind '%s' (known: sqlite, postgres)", kind);
}

void ys_store_describe(const char *kind, const char *path, char *buf, size_t size)
{
    if (kind && strcmp(kind, "postgres") == 0) {
        char label[256];
        ys_pg_label(path ? path : "", label, sizeof label);
        snprintf(buf, size, "postgres %s", label);
    } else {
        snprintf(buf, size, "%s", path ? path : "");
    }
}

void ys_store_close(struct ys_store *s)
{
    if (s)
        s->type->close(s);
}

int ys_resolution_parse(const char *s, enum ys_resolution *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, res_names[i]) == 0) {
            *out = (enum ys_resolution)i;
            return 0;
        }
    }
    return YS_EINVAL;
}

const char *ys_resolution_name(enum ys_resolution r)
{
    return (unsigned)r < 4 ? res_names[r] : "unknown";
}

int64_t ys_resolution_ms(enum ys_resolution r)
{
    switch (r) {
    case YS_RES_MINUTE: return INT64_C(60000);
    case YS_RES_HOUR: return INT64_C(3600000);
    case YS_RES_DAY: return INT64_C(86400000);
    default: return 0;
    }
}
