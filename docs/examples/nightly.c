/* Nightly scoring from C: cc nightly.c $(pkg-config --cflags --libs custscore) */
#include <custscore.h>
#include <stdio.h>
#include <time.h>

/* Retry a call that failed with CUSTSCORE_EBUSY (another writer holds the lock). */
#define RETRY(call)                                                                                \
    do {                                                                                           \
        for (int try_ = 0; (rc = (call)) == CUSTSCORE_EBUSY && try_ < 5; try_++)                   \
            nanosleep(&(struct timespec){2, 0}, NULL);                                             \
    } while (0)

static int print_high_risk(const custscore_score *s, void *payload)
{
    (void)payload;
    if (s->band[0] == 'h')
        printf("%s,%.3f,%.2f,%s\n", s->customer, s->churn_probability, s->value_at_risk,
               s->reason[0]);
    return 0;
}

int main(int argc, char **argv)
{
    const char *store = argc > 1 ? argv[1] : "shop.db";
    const char *orders = argc > 2 ? argv[2] : "invoice_lines.csv";
    custscore *db = NULL;
    int rc = custscore_open(store, CUSTSCORE_OPEN_CREATE, &db);
    int64_t today = (int64_t)time(NULL);
    if (rc == 0) {
        custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
        io.cancel_prefix = "C";
        io.skip_bad = 1;
        io.rejects_path = "rejects.csv";
        custscore_import_report rep;
        RETRY(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, orders, &io, &rep));
        if (rc == 0)
            fprintf(stderr, "orders: %lld added, %lld replaced, %lld rejected\n",
                    (long long)rep.added, (long long)rep.replaced, (long long)rep.rejected);
    }
    if (rc == 0) {
        custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT; /* BG/NBD, weeks */
        RETRY(custscore_fit(db, today, &fo, NULL));
        fo.model = CUSTSCORE_MODEL_GG;
        if (rc == 0)
            RETRY(custscore_fit(db, today, &fo, NULL));
    }
    if (rc == 0) {
        custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT; /* 90-day window */
        RETRY(custscore_churn_train(db, today, &co, NULL));
    }
    if (rc == 0) {
        printf("customer,probability,value_at_risk,reason\n");
        RETRY(custscore_score_all(db, today, NULL, print_high_risk, NULL, NULL));
    }
    if (rc)
        fprintf(stderr, "custscore: %s (%s)\n", custscore_errmsg(db), custscore_errstr(rc));
    custscore_close(db);
    return rc == 0 ? 0 : 1;
}
