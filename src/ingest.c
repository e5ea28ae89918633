/*
 * ingest.c: adding customers, orders, survey answers and complaints one by
 * one, and the validation rules shared with the CSV import (import.c).
 */
#include "internal.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Validation */

bool cs_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

const char *cs_check_key(const char *s, size_t len)
{
    if (!s || len == 0)
        return "empty key";
    if (len > CUSTSCORE_MAX_KEY)
        return "key longer than 255 bytes";
    if (memchr(s, '\0', len))
        return "key contains a NUL byte";
    if (!cs_utf8_valid(s, len))
        return "invalid UTF-8";
    return NULL;
}

/* Times outside CUSTSCORE_TIME_MIN..MAX are refused at the door: every
 * computation on stored times (days, ISO dates) then stays in range. */
static int cs_check_time(custscore *db, const char *what, int64_t t)
{
    if (t < CUSTSCORE_TIME_MIN || t > CUSTSCORE_TIME_MAX)
        return cs_error(db, CUSTSCORE_ERANGE,
                        "%s: time %lld outside 0001-01-01..9999-12-31 UTC (CUSTSCORE_TIME_MIN.."
                        "CUSTSCORE_TIME_MAX)",
                        what, (long long)t);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Single adds: each is its own transaction, or joins the caller's batch. */

int custscore_add_customer(custscore *db, const char *key, int64_t created)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (created != 0 && cs_check_time(db, "customer created", created))
        return db->errcode;
    int rc = cs_tx_begin(db);
    if (rc)
        return rc;
    int64_t id = 0;
    rc = cs_customer_id(db, key, key ? strlen(key) : 0, true, &id);
    if (rc == 0 && created != 0) {
        rc = cs_customer_set_created(db, id, created);
    }
    return cs_tx_end(db, rc);
}

static int cs_set_attribute(custscore *db, const char *key, const char *name, const char *text,
                            double number, bool is_text)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    size_t name_len = name ? strlen(name) : 0;
    const char *why = cs_check_key(name, name_len);
    if (why)
        return cs_error(db, CUSTSCORE_EINVAL, "attribute name: %s", why);
    size_t text_len = 0;
    if (is_text) {
        if (!text)
            return cs_error(db, CUSTSCORE_EINVAL, "attribute '%s': NULL value", name);
        text_len = strlen(text);
        if (text_len > CUSTSCORE_MAX_KEY || !cs_utf8_valid(text, text_len))
            return cs_error(db, CUSTSCORE_EINVAL,
                            "attribute '%s': value must be 0..255 bytes of UTF-8", name);
    } else if (!isfinite(number)) {
        return cs_error(db, CUSTSCORE_EINVAL, "attribute '%s': value is not finite", name);
    }
    int rc = cs_tx_begin(db);
    if (rc)
        return rc;
    int64_t id = 0;
    rc = cs_customer_id(db, key, key ? strlen(key) : 0, true, &id);
    if (rc == 0)
        rc = cs_attribute_put(db, id, name, name_len, text, text_len, number, is_text);
    return cs_tx_end(db, rc);
}

int custscore_set_attribute(custscore *db, const char *key, const char *name, double value)
{
    return cs_set_attribute(db, key, name, NULL, value, false);
}

int custscore_set_attribute_text(custscore *db, const char *key, const char *name,
                                 const char *value)
{
    return cs_set_attribute(db, key, name, value, 0.0, true);
}

int custscore_add_order(custscore *db, const custscore_order *order, int *replaced)
{
    if (replaced)
        *replaced = 0;
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!order)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_add_order: NULL order");
    if (!isfinite(order->revenue))
        return cs_error(db, CUSTSCORE_EINVAL, "order: revenue is not a finite number");
    if (order->has_cost && (!isfinite(order->cost) || order->cost < 0))
        return cs_error(db, CUSTSCORE_EINVAL, "order: cost must be a finite number >= 0");
    if (fabs(order->revenue) > CUSTSCORE_MAX_AMOUNT ||
        (order->has_cost && order->cost > CUSTSCORE_MAX_AMOUNT))
        return cs_error(db, CUSTSCORE_ERANGE,
                        "order: revenue or cost beyond +-1e15 (CUSTSCORE_MAX_AMOUNT)");
    if (cs_check_time(db, "order", order->ts))
        return db->errcode;
    size_t okey_len = 0;
    if (order->order_key) {
        okey_len = strlen(order->order_key);
        const char *why = cs_check_key(order->order_key, okey_len);
        if (why)
            return cs_error(db, CUSTSCORE_EINVAL, "order key: %s", why);
    }
    int rc = cs_tx_begin(db);
    if (rc)
        return rc;
    int64_t id = 0;
    bool was_replaced = false;
    rc = cs_customer_id(db, order->customer, order->customer ? strlen(order->customer) : 0, true,
                        &id);
    if (rc == 0)
        rc = cs_order_put(db, id, order->order_key, okey_len, order->ts, order->revenue,
                          order->cost, order->has_cost != 0, &was_replaced);
    rc = cs_tx_end(db, rc);
    if (rc == 0 && replaced)
        *replaced = was_replaced;
    return rc;
}

int custscore_add_response(custscore *db, const char *customer, int64_t ts, const char *item,
                           double value)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    size_t item_len = item ? strlen(item) : 0;
    const char *why = cs_check_key(item, item_len);
    if (why)
        return cs_error(db, CUSTSCORE_EINVAL, "survey item name: %s", why);
    if (!isfinite(value))
        return cs_error(db, CUSTSCORE_EINVAL, "survey answer to %s: not a finite number", item);
    if (cs_check_time(db, "survey answer", ts))
        return db->errcode;
    int rc = cs_tx_begin(db);
    if (rc)
        return rc;
    int64_t id = 0;
    bool replaced = false;
    rc = cs_customer_id(db, customer, customer ? strlen(customer) : 0, true, &id);
    if (rc == 0)
        rc = cs_response_put(db, id, ts, item, item_len, value, &replaced);
    return cs_tx_end(db, rc);
}

int custscore_add_complaint(custscore *db, const char *customer, int64_t ts, double severity,
                            int64_t resolved_ts)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!isfinite(severity))
        return cs_error(db, CUSTSCORE_EINVAL, "complaint: severity is not a finite number");
    if (cs_check_time(db, "complaint", ts) ||
        (resolved_ts != 0 && cs_check_time(db, "complaint resolved", resolved_ts)))
        return db->errcode;
    if (resolved_ts != 0 && resolved_ts < ts)
        return cs_error(db, CUSTSCORE_EINVAL, "complaint: resolved before it was made");
    int rc = cs_tx_begin(db);
    if (rc)
        return rc;
    int64_t id = 0;
    bool replaced = false;
    rc = cs_customer_id(db, customer, customer ? strlen(customer) : 0, true, &id);
    if (rc == 0)
        rc = cs_complaint_put(db, id, ts, severity, resolved_ts, &replaced);
    return cs_tx_end(db, rc);
}
