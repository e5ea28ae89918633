#!/usr/bin/env python3
"""Top customers by value at risk, from the bundled CDNOW sample.

Reads data/cdnow_sample.txt into an in-memory store, fits the BG/NBD
purchase model and the Gamma-Gamma spend model, trains the early-warning
churn model on a 90-day window, scores every customer and prints the ones
with the most value at risk (churn probability x 12-month CLV), with the
main reason for each.

usage: examples/top_customers.py [--as-of 1998-06-30] [--top 10] [--data FILE]

Run from the source tree with the built library:
  CUSTSCORE_LIBRARY=build/libcustscore.so.0 PYTHONPATH=bindings/python \\
      python3 examples/top_customers.py
"""

import argparse
import os
import sys

import custscore

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, os.pardir, "data", "cdnow_sample.txt")


def main():
    ap = argparse.ArgumentParser(description="top customers by value at risk")
    ap.add_argument("--as-of", default="1998-06-30", help="scoring date (default 1998-06-30)")
    ap.add_argument("--top", type=int, default=10, help="customers to print (default 10)")
    ap.add_argument("--data", default=SAMPLE, help="CDNOW-format orders file")
    args = ap.parse_args()

    with custscore.open() as store:  # in memory; give a path to keep the store
        report = store.import_csv("orders", args.data, whitespace=True, no_header=True,
                                  map="customer=2,ts=3,revenue=5")
        print("imported %d orders of %d customers" % (report.added, store.customer_count()))

        # CDNOW's $0 rows are free CDs: purchases, as in the BTYD literature.
        purchase = store.fit(args.as_of, model="bgnbd", zero_revenue="purchase")
        spend = store.fit(args.as_of, model="gg", zero_revenue="purchase")
        print("BG/NBD: " + ", ".join("%s %.3f" % kv for kv in purchase.params.items()))
        print("Gamma-Gamma: " + ", ".join("%s %.2f" % kv for kv in spend.params.items()))

        card = store.churn_train(args.as_of, window_days=90)
        print("churn model: %d customers, holdout AUC %.3f, lift in the top decile %.2f"
              % (card.n_train, card.auc, card.lift_top_decile))

        scores = store.churn(args.as_of)  # probability, band, reasons, CLV, value at risk

    top = sorted(scores, key=lambda s: s.value_at_risk, reverse=True)[:args.top]
    print()
    print("%-8s %8s %-6s %9s %13s  %s" % ("customer", "P(churn)", "band", "CLV",
                                          "value at risk", "main reason"))
    for s in top:
        print("%-8s %8.3f %-6s %9.2f %13.2f  %s" % (s.customer, s.probability, s.band, s.clv,
                                                   s.value_at_risk, s.reason1_text or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
