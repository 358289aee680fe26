/*
 * lease_int.h - the backends' lease functions (store.h `lease`), private
 * to src/store/: sqlite_lease.c and pg_lease.c define them, sqlite.c and
 * pg.c list them in their type tables.
 */
#ifndef YS_STORE_LEASE_INT_H
#define YS_STORE_LEASE_INT_H

#include "store/store.h"

int sq_lease(struct ys_store *st, const char *name, const char *holder, int64_t ttl_ms, bool *held,
             struct ys_err *err);
int pg_lease(struct ys_store *st, const char *name, const char *holder, int64_t ttl_ms, bool *held,
             struct ys_err *err);

#endif
