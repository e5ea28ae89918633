#!/bin/sh
# Nightly customer scoring for an ERP: import yesterday's exports, refit the
# models, score everyone, write the report. Each step is one transaction;
# a failing step leaves the store as it was and exits with a status the
# scheduler can act on (3 = busy: retry later).
set -eu
DB=${CUSTSCORE_DB:-/var/lib/custscore/shop.db}
EXPORT=${EXPORT_DIR:-/srv/erp/export}
TODAY=$(date -u +%F)
export CUSTSCORE_DB="$DB"

custscore init
custscore --quiet import orders "$EXPORT/invoice_lines.csv" \
    --map customer=CustomerID,order=InvoiceNo,ts=InvoiceDate,quantity=Quantity,price=UnitPrice \
    --cancel-prefix C --skip-bad --rejects "$EXPORT/rejects-$TODAY.csv"
custscore --quiet import customers "$EXPORT/customers.csv"
[ -f "$EXPORT/survey.csv" ] && custscore import responses "$EXPORT/survey.csv" --wide --customer customer --date date
[ -f "$EXPORT/complaints.csv" ] && custscore import complaints "$EXPORT/complaints.csv"

custscore fit --model bgnbd --as-of "$TODAY" --unit week --json > "fit-bgnbd-$TODAY.json"
custscore fit --model gg --as-of "$TODAY" --unit week --json > "fit-gg-$TODAY.json"
custscore csi --model ecsi --json > "csi-$TODAY.json" || true   # no survey data yet is fine
custscore churn train --as-of "$TODAY" --window 90d
custscore score --as-of "$TODAY" --out "scores-$TODAY.csv"
custscore changes --since "$(date -u -d '7 days ago' +%F)" --out "changes-$TODAY.csv"
custscore report --as-of "$TODAY" --out "report-$TODAY.html"
