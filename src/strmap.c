/*
 * strmap.c: an open-addressing hash map from byte strings to entry indexes,
 * used for customer keys and order keys during imports and for names in the
 * models. Entries keep insertion order, so output built from a map is
 * deterministic.
 */
#include "internal.h"

#include <string.h>

/* FNV-1a, 64 bit: short keys, good spread, no state. */
static uint64_t cs_hash(const char *s, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

void cs_strmap_init(cs_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void cs_strmap_free(cs_strmap *m)
{
    cs_free(m->slot);
    cs_free(m->hash);
    cs_free(m->key_off);
    cs_free(m->key_len);
    cs_free(m->value);
    cs_free(m->arena);
    memset(m, 0, sizeof *m);
}

ptrdiff_t cs_strmap_find(const cs_strmap *m, const char *key, size_t len)
{
    if (m->cap == 0)
        return -1;
    uint64_t h = cs_hash(key, len);
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t e = m->slot[i];
        if (e == 0)
            return -1;
        e--;
        if (m->hash[e] == h && m->key_len[e] == len &&
            memcmp(m->arena + m->key_off[e], key, len) == 0)
            return (ptrdiff_t)e;
    }
}

static bool cs_strmap_grow_slots(cs_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint32_t *slot = cs_calloc(cap, sizeof *slot);
    if (!slot)
        return false;
    size_t mask = cap - 1;
    for (size_t e = 0; e < m->count; e++) {
        size_t i = (size_t)m->hash[e] & mask;
        while (slot[i])
            i = (i + 1) & mask;
        slot[i] = (uint32_t)(e + 1);
    }
    cs_free(m->slot);
    m->slot = slot;
    m->cap = cap;
    return true;
}

static bool cs_strmap_grow_entries(cs_strmap *m)
{
    size_t cap = m->entry_cap ? m->entry_cap * 2 : 64;
    uint64_t *hash = cs_reallocarray(m->hash, cap, sizeof *hash);
    if (!hash)
        return false;
    m->hash = hash;
    size_t *off = cs_reallocarray(m->key_off, cap, sizeof *off);
    if (!off)
        return false;
    m->key_off = off;
    uint32_t *len = cs_reallocarray(m->key_len, cap, sizeof *len);
    if (!len)
        return false;
    m->key_len = len;
    int64_t *value = cs_reallocarray(m->value, cap, sizeof *value);
    if (!value)
        return false;
    m->value = value;
    m->entry_cap = cap;
    return true;
}

ptrdiff_t cs_strmap_put(cs_strmap *m, const char *key, size_t len, bool *inserted)
{
    *inserted = false;
    ptrdiff_t found = cs_strmap_find(m, key, len);
    if (found >= 0)
        return found;
    if (len > UINT32_MAX || m->count >= UINT32_MAX - 1)
        return -1;
    if ((m->count + 1) * 4 > m->cap * 3 && !cs_strmap_grow_slots(m))
        return -1;
    if (m->count == m->entry_cap && !cs_strmap_grow_entries(m))
        return -1;
    if (m->arena_len + len + 1 > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap : 4096;
        while (cap < m->arena_len + len + 1)
            cap *= 2;
        char *arena = cs_reallocarray(m->arena, cap, 1);
        if (!arena)
            return -1;
        m->arena = arena;
        m->arena_cap = cap;
    }
    size_t e = m->count;
    uint64_t h = cs_hash(key, len);
    memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    m->hash[e] = h;
    m->key_off[e] = m->arena_len;
    m->key_len[e] = (uint32_t)len;
    m->value[e] = 0;
    m->arena_len += len + 1;
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    while (m->slot[i])
        i = (i + 1) & mask;
    m->slot[i] = (uint32_t)(e + 1);
    m->count++;
    *inserted = true;
    return (ptrdiff_t)e;
}
