/*
 * hash.h - a small stable hash (FNV-1a, 64 bit).
 *
 * Used where the value must be the same across runs and machines: the
 * scheduler's per-check phase and the fingerprint of a check's config for
 * reload diffs. Not for hash tables exposed to attackers.
 */
#ifndef YS_CORE_HASH_H
#define YS_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define YS_HASH_INIT UINT64_C(0xcbf29ce484222325)

static inline uint64_t ys_hash_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static inline uint64_t ys_hash_str(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    /* Mix in a terminator so "ab"+"c" and "a"+"bc" differ. */
    h ^= 0xff;
    return h * UINT64_C(0x100000001b3);
}

#endif
