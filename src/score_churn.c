/*
 * score_churn.c: the churn part of custscore_score_all(): the churn module's
 * bulk scoring (custscore_churn_score_each) merged into the run by key.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct cs_churn_merge {
    const cs_history *h;
    size_t next; /* both sides are in key order */
    double *churn;
    int *band_level;
    char **reasons;
    double *contributions;
    bool oom;
} cs_churn_merge;

static int cs_churn_collect(const custscore_churn_score *s, void *payload)
{
    cs_churn_merge *m = payload;
    const cs_history *h = m->h;
    while (m->next < h->n_customers && strcmp(h->key[m->next], s->customer) < 0)
        m->next++;
    if (m->next >= h->n_customers || strcmp(h->key[m->next], s->customer) != 0)
        return 0; /* a customer created after the history was read */
    size_t i = m->next++;
    m->churn[i] = s->probability;
    m->band_level[i] = s->band_level;
    for (size_t k = 0; k < CUSTSCORE_REASONS && k < s->n_reasons; k++) {
        const char *text =
            s->reason[k].text && *s->reason[k].text ? s->reason[k].text : s->reason[k].feature;
        char *copy = cs_strdup(text ? text : "");
        if (!copy) {
            m->oom = true;
            return 1;
        }
        m->reasons[i * CUSTSCORE_REASONS + k] = copy;
        m->contributions[i * CUSTSCORE_REASONS + k] = s->reason[k].contribution;
    }
    return 0;
}

int cs_score_churn(custscore *db, int64_t as_of, const cs_history *h, double band_medium,
                   double band_high, double *churn, int *band_level, char ***reasons,
                   double **contributions, char *note, size_t note_size)
{
    size_t n = h->n_customers;
    for (size_t i = 0; i < n; i++) {
        churn[i] = NAN;
        band_level[i] = -1;
    }
    note[0] = '\0';
    /* The stored early-warning (or label) model, scored on the history the
     * run already holds: no second load of the orders, no second CLV. */
    cs_churn_model model;
    int rc = cs_churn_model_load(db, "churn", &model);
    if (rc == CUSTSCORE_ENOMODEL) {
        cs_clear_error(db);
        snprintf(note, note_size, "no churn model trained (custscore churn train)");
        return CUSTSCORE_OK;
    }
    if (rc)
        return rc;
    cs_churn_merge m = {.h = h, .churn = churn, .band_level = band_level};
    m.reasons = cs_calloc(n ? n * CUSTSCORE_REASONS : 1, sizeof *m.reasons);
    m.contributions = cs_mallocarray(n ? n * CUSTSCORE_REASONS : 1, sizeof *m.contributions);
    if (!m.reasons || !m.contributions) {
        cs_free(m.reasons);
        cs_free(m.contributions);
        cs_churn_model_free(&model);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n * CUSTSCORE_REASONS; i++)
        m.contributions[i] = NAN;
    double medium = band_medium > 0 ? band_medium : model.band_medium;
    double high = band_high > 0 ? band_high : model.band_high;
    if (!(medium > 0 && medium <= high)) {
        medium = CUSTSCORE_CHURN_BAND_MEDIUM;
        high = CUSTSCORE_CHURN_BAND_HIGH;
    }
    rc = cs_churn_score_history(db, h, &model, as_of, medium, high, false, NULL, cs_churn_collect,
                                &m);
    cs_churn_model_free(&model);
    if (m.oom)
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    if (rc && rc != CUSTSCORE_ENOMEM) {
        /* A model that cannot score this store (e.g. a feature attribute
         * gone): report it in the rows, do not fail the whole run. */
        snprintf(note, note_size, "churn not scored: %s", custscore_errmsg(db));
        cs_clear_error(db);
        for (size_t i = 0; i < n; i++) {
            churn[i] = NAN;
            band_level[i] = -1;
        }
        rc = CUSTSCORE_OK;
    }
    *reasons = m.reasons;
    *contributions = m.contributions;
    return rc;
}
