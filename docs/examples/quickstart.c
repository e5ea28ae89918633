/* Import orders and print each customer's summary: cc quickstart.c $(pkg-config --cflags --libs
 * custscore) */
#include <custscore.h>
#include <stdio.h>

static int print_row(const custscore_summary *s, void *payload)
{
    (void)payload;
    printf("%s x=%lld t_x=%.2f T=%.2f revenue=%.2f\n", s->customer, (long long)s->x, s->t_x, s->T,
           s->revenue);
    return 0;
}

int main(int argc, char **argv)
{
    custscore *db = NULL;
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    int64_t as_of = 0;
    int rc = custscore_open(argc > 2 ? argv[2] : NULL, CUSTSCORE_OPEN_CREATE, &db);
    if (rc == 0)
        rc = custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, argc > 1 ? argv[1] : "orders.csv",
                                  &opt, NULL);
    if (rc == 0)
        rc = custscore_parse_time("2026-01-01", NULL, &as_of);
    if (rc == 0)
        rc = custscore_summary_each(db, as_of, NULL, print_row, NULL);
    if (rc)
        fprintf(stderr, "custscore: %s\n", custscore_errmsg(db));
    custscore_close(db);
    return rc ? 1 : 0;
}
