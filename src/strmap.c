/*
 * strmap.c: an open-addressing hash map from byte strings to entry indexes,
 * used for customer keys and order keys during imports and for names in the
 * models. Entries keep insertion order, so output built from a map is
 * deterministic.
 */
#include "internal.h"

#include <string.h>

/* FNV-1a, 64 bit, with a final mix: short keys, good spread, no state. */
static uint64_t cs_hash(const char *s, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    /* Finalizer (MurmurHash3 fmix64): the slot index uses the low bits and
     * the slot tag the high bits, so both must depend on every byte. */
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
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

/* A slot keeps the entry, a tag and the key's first bytes, so a probe
 * sequence reads one cache line, and touches an entry only for keys longer
 * than 8 bytes whose tags and heads match (the customer map of an import
 * is looked up once per line of a file of millions of lines). */
static inline uint32_t cs_slot_tag(uint64_t h, size_t len)
{
    return (uint32_t)(h >> 40) << 8 | (uint32_t)(len < 255 ? len : 255);
}

static inline uint64_t cs_slot_head(const char *key, size_t len)
{
    uint64_t head = 0;
    memcpy(&head, key, len < 8 ? len : 8);
    return head;
}

static ptrdiff_t cs_strmap_find_h(const cs_strmap *m, const char *key, size_t len, uint64_t h)
{
    if (m->cap == 0)
        return -1;
    uint32_t tag = cs_slot_tag(h, len);
    uint64_t head = cs_slot_head(key, len);
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const cs_strmap_slot *s = &m->slot[i];
        if (s->entry == 0)
            return -1;
        if (s->tag != tag || s->head != head)
            continue;
        size_t e = (size_t)s->entry - 1;
        /* The tag holds the length below 255: up to 8 bytes, the head is
         * the whole key. */
        if (len <= 8 || (m->key_len[e] == len && memcmp(m->arena + m->key_off[e], key, len) == 0))
            return (ptrdiff_t)e;
    }
}

ptrdiff_t cs_strmap_find(const cs_strmap *m, const char *key, size_t len)
{
    return cs_strmap_find_h(m, key, len, cs_hash(key, len));
}

static void cs_slot_put(cs_strmap_slot *slot, size_t mask, uint64_t h, size_t len, uint64_t head,
                        size_t e)
{
    size_t i = (size_t)h & mask;
    while (slot[i].entry)
        i = (i + 1) & mask;
    slot[i] = (cs_strmap_slot){head, cs_slot_tag(h, len), (uint32_t)(e + 1)};
}

static bool cs_strmap_grow_slots_to(cs_strmap *m, size_t cap)
{
    cs_strmap_slot *slot = cs_calloc(cap, sizeof *slot);
    if (!slot)
        return false;
    for (size_t e = 0; e < m->count; e++)
        cs_slot_put(slot, cap - 1, m->hash[e], m->key_len[e],
                    cs_slot_head(m->arena + m->key_off[e], m->key_len[e]), e);
    cs_free(m->slot);
    m->slot = slot;
    m->cap = cap;
    return true;
}

static bool cs_strmap_grow_slots(cs_strmap *m)
{
    return cs_strmap_grow_slots_to(m, m->cap ? m->cap * 2 : 64);
}

static bool cs_strmap_grow_entries_to(cs_strmap *m, size_t cap)
{
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

static bool cs_strmap_grow_entries(cs_strmap *m)
{
    return cs_strmap_grow_entries_to(m, m->entry_cap ? m->entry_cap * 2 : 64);
}

bool cs_strmap_reserve(cs_strmap *m, size_t n, size_t key_bytes)
{
    if (n >= UINT32_MAX - 1 || n > SIZE_MAX / 8)
        return false;
    size_t cap = m->cap ? m->cap : 64;
    while (n * 4 > cap * 3)
        cap *= 2;
    if (cap > m->cap && !cs_strmap_grow_slots_to(m, cap))
        return false;
    if (n > m->entry_cap && !cs_strmap_grow_entries_to(m, n))
        return false;
    if (key_bytes > m->arena_cap) {
        char *arena = cs_reallocarray(m->arena, key_bytes, 1);
        if (!arena)
            return false;
        m->arena = arena;
        m->arena_cap = key_bytes;
    }
    return true;
}

uint64_t cs_strmap_hash(const char *key, size_t len)
{
    return cs_hash(key, len);
}

void cs_strmap_prefetch(const cs_strmap *m, uint64_t h)
{
#if defined(__GNUC__) || defined(__clang__)
    if (m->cap)
        __builtin_prefetch(&m->slot[(size_t)h & (m->cap - 1)]);
#else
    (void)m;
    (void)h;
#endif
}

ptrdiff_t cs_strmap_put(cs_strmap *m, const char *key, size_t len, bool *inserted)
{
    return cs_strmap_put_h(m, key, len, cs_hash(key, len), inserted);
}

ptrdiff_t cs_strmap_put_h(cs_strmap *m, const char *key, size_t len, uint64_t h, bool *inserted)
{
    *inserted = false;
    ptrdiff_t found = cs_strmap_find_h(m, key, len, h);
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
    memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    m->hash[e] = h;
    m->key_off[e] = m->arena_len;
    m->key_len[e] = (uint32_t)len;
    m->value[e] = 0;
    m->arena_len += len + 1;
    cs_slot_put(m->slot, m->cap - 1, h, len, cs_slot_head(key, len), e);
    m->count++;
    *inserted = true;
    return (ptrdiff_t)e;
}
