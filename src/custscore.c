/*
 * custscore.c: handle life cycle, error state, version, memory.
 */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* ---------------------------------------------------------------------- */
/* Memory */

#ifdef CUSTSCORE_FAULT_INJECTION
/* Test builds only: fail the Nth allocation (counted from the last reset) when
 * the environment variable CUSTSCORE_FAIL_ALLOC=N is set. The counter is
 * thread-local so parallel tests do not disturb each other; this code is not
 * compiled into the shipped library. */
static _Thread_local long cs_alloc_count;
static _Thread_local long cs_alloc_fail_at = -1;

void cs_fault_reset(long fail_at);
void cs_fault_reset(long fail_at)
{
    cs_alloc_count = 0;
    cs_alloc_fail_at = fail_at;
}

static bool cs_alloc_should_fail(void)
{
    if (cs_alloc_fail_at < 0)
        return false;
    return ++cs_alloc_count == cs_alloc_fail_at;
}
#else
static inline bool cs_alloc_should_fail(void)
{
    return false;
}
#endif

/* Large arrays (the order history, the import's maps: hundreds of MB for
 * millions of orders) are filled once, front to back; on Linux, ask for
 * transparent huge pages so filling them costs one page fault per 2 MiB
 * instead of one per 4 KiB (a third of loading 10 million orders went to
 * page faults). Advice only: where it is not available nothing changes. */
static void *cs_advise_large(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const size_t huge = (size_t)2 << 20;
    if (p && bytes >= 4 * huge) {
        uintptr_t a = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
        uintptr_t b = ((uintptr_t)p + bytes) & ~(uintptr_t)(huge - 1);
        if (b > a)
            (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
    }
#else
    (void)bytes;
#endif
    return p;
}

void *cs_malloc(size_t size)
{
    if (cs_alloc_should_fail())
        return NULL;
    return cs_advise_large(malloc(size ? size : 1), size);
}

void *cs_calloc(size_t n, size_t size)
{
    if (cs_alloc_should_fail())
        return NULL;
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return cs_advise_large(calloc(n, size), n <= SIZE_MAX / size ? n * size : 0);
}

void *cs_mallocarray(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return cs_malloc(n * size);
}

void *cs_reallocarray(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    if (cs_alloc_should_fail())
        return NULL;
    size_t bytes = n * size;
    return cs_advise_large(realloc(p, bytes ? bytes : 1), bytes);
}

char *cs_strndup(const char *s, size_t n)
{
    char *copy = cs_malloc(n + 1);
    if (copy) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

char *cs_strdup(const char *s)
{
    return cs_strndup(s, strlen(s));
}

void cs_free(void *p)
{
    free(p);
}

/* ---------------------------------------------------------------------- */
/* Version */

const char *custscore_version(void)
{
    return CUSTSCORE_VERSION_STRING;
}

int custscore_version_number(void)
{
    return CUSTSCORE_VERSION_NUMBER;
}

/* ---------------------------------------------------------------------- */
/* Errors */

const char *custscore_errstr(int code)
{
    switch (code) {
    case CUSTSCORE_OK:
        return "success";
    case CUSTSCORE_EINVAL:
        return "invalid argument or input";
    case CUSTSCORE_ENOMEM:
        return "out of memory";
    case CUSTSCORE_EIO:
        return "input/output error";
    case CUSTSCORE_EBUSY:
        return "database is busy (retry later)";
    case CUSTSCORE_ECORRUPT:
        return "database is corrupt or not a custscore store";
    case CUSTSCORE_ENOTFOUND:
        return "not found";
    case CUSTSCORE_ENOMODEL:
        return "no fitted model";
    case CUSTSCORE_ENOCONV:
        return "model fit did not converge";
    case CUSTSCORE_ESCHEMA:
        return "store was written by a newer version of custscore";
    case CUSTSCORE_EREADONLY:
        return "store is read-only";
    case CUSTSCORE_ERANGE:
        return "value out of range";
    case CUSTSCORE_EINTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}

const char *custscore_errmsg(const custscore *db)
{
    if (!db)
        return "no handle (out of memory?)";
    return db->errmsg;
}

int custscore_errcode(const custscore *db)
{
    return db ? db->errcode : CUSTSCORE_ENOMEM;
}

void cs_clear_error(custscore *db)
{
    db->errcode = 0;
    db->errmsg[0] = '\0';
}

int cs_verror(custscore *db, int code, const char *fmt, va_list ap)
{
    if (!db)
        return code;
    db->errcode = code;
    if (fmt) {
        vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
    } else {
        snprintf(db->errmsg, sizeof db->errmsg, "%s", custscore_errstr(code));
    }
    return code;
}

int cs_error(custscore *db, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_verror(db, code, fmt, ap);
    va_end(ap);
    return code;
}

int cs_map_sqlite_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return CUSTSCORE_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CUSTSCORE_EBUSY;
    case SQLITE_NOMEM:
        return CUSTSCORE_ENOMEM;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return CUSTSCORE_EIO;
    case SQLITE_READONLY:
        return CUSTSCORE_EREADONLY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return CUSTSCORE_ECORRUPT;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return CUSTSCORE_EINVAL;
    default:
        return CUSTSCORE_EINTERNAL;
    }
}

int cs_sqlite_error(custscore *db, int rc, const char *what)
{
    int code = cs_map_sqlite_code(rc);
    if (code == CUSTSCORE_OK)
        code = CUSTSCORE_EINTERNAL;
    const char *detail = db && db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc);
    const char *hint = "";
    if (code == CUSTSCORE_EBUSY)
        hint = " (another process holds the lock; retry, or raise the busy timeout)";
    else if ((rc & 0xff) == SQLITE_FULL)
        hint = " (disk or database size limit full; nothing of this operation was written)";
    else if ((rc & 0xff) == SQLITE_IOERR)
        hint = " (nothing of this operation was written)";
    /* The operating system's reason ("No space left on device", "File too
     * large") when SQLite has one. */
    int os_errno = db && db->sql && (code == CUSTSCORE_EIO) ? sqlite3_system_errno(db->sql) : 0;
    if (os_errno)
        return cs_error(db, code, "%s: %s: %s%s", what, detail, strerror(os_errno), hint);
    return cs_error(db, code, "%s: %s%s", what, detail, hint);
}

/* ---------------------------------------------------------------------- */
/* Handle life cycle */

int custscore_open(const char *path, int flags, custscore **out)
{
    if (!out)
        return CUSTSCORE_EINVAL;
    *out = NULL;
    custscore *db = cs_calloc(1, sizeof *db);
    if (!db)
        return CUSTSCORE_ENOMEM;
    *out = db;
    if (flags & ~(CUSTSCORE_OPEN_READONLY | CUSTSCORE_OPEN_CREATE))
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_open: unknown flags 0x%x", flags);
    if ((flags & CUSTSCORE_OPEN_READONLY) && (flags & CUSTSCORE_OPEN_CREATE))
        return cs_error(db, CUSTSCORE_EINVAL,
                        "custscore_open: READONLY and CREATE cannot be combined");
    return cs_store_open(db, path, flags);
}

int custscore_close(custscore *db)
{
    if (!db)
        return CUSTSCORE_OK;
    if (db->in_batch && db->sql)
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    cs_store_close(db);
    cs_free(db->scratch_key);
    cs_free(db);
    return CUSTSCORE_OK;
}

int custscore_release_memory(custscore *db)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    cs_history_cache_drop(db);
    if (db->sql)
        sqlite3_db_release_memory(db->sql);
    return CUSTSCORE_OK;
}

int custscore_busy_timeout(custscore *db, int milliseconds)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!db->sql)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_busy_timeout: store is not open");
    if (milliseconds < 0)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_busy_timeout: negative timeout %d",
                        milliseconds);
    int rc = sqlite3_busy_timeout(db->sql, milliseconds);
    if (rc != SQLITE_OK)
        return cs_sqlite_error(db, rc, "setting the busy timeout");
    return CUSTSCORE_OK;
}

double custscore_unit_days(custscore_unit unit)
{
    switch (unit) {
    case CUSTSCORE_UNIT_DAY:
        return 1.0;
    case CUSTSCORE_UNIT_WEEK:
        return 7.0;
    case CUSTSCORE_UNIT_MONTH:
        return 365.2425 / 12.0;
    case CUSTSCORE_UNIT_YEAR:
        return 365.2425;
    default:
        return 0.0;
    }
}
