#!/usr/bin/env python3
"""Generate the bundled demo survey and complaint files (run once; output is committed).

    python3 tools/make_demo_data.py    # writes data/demo_survey.csv, data/demo_complaints.csv

Synthetic, seeded (random.Random(20261123)), for the CDNOW sample customers in
data/cdnow_sample.txt:
- data/demo_survey.csv: wide-form ECSI questionnaire (items IMAG1-5, CUEX1-3,
  PERQ1-7, PERV1-2, CUSA1-3, CUSCO, CUSL1-3 on 1..10) plus RECOMMEND (0..10,
  the NPS question) answered by 600 customers between 1997-06-01 and
  1997-09-30. Answers come from a small ECSI-shaped structural model: latent
  image, expectation, quality and value drive satisfaction; satisfaction and
  image drive loyalty; repeat buyers are a little more satisfied. About 3% of
  answers are left blank (missing).
- data/demo_complaints.csv: 150 complaints (customer, ts, severity 1-3,
  resolved date or blank) in 1997-03..1997-09, more often by customers with
  low satisfaction.
"""
import csv
import datetime
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, os.pardir, 'data')
rng = random.Random(20261123)

ITEMS = ([('IMAG%d' % i, 'img') for i in range(1, 6)] +
         [('CUEX%d' % i, 'exp') for i in range(1, 4)] +
         [('PERQ%d' % i, 'qua') for i in range(1, 8)] +
         [('PERV%d' % i, 'val') for i in range(1, 3)] +
         [('CUSA%d' % i, 'sat') for i in range(1, 4)] +
         [('CUSCO', 'com')] +
         [('CUSL%d' % i, 'loy') for i in range(1, 4)])


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def main():
    purchases = {}
    with open(os.path.join(DATA, 'cdnow_sample.txt')) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 5 and parts[2] <= '19970930':
                purchases.setdefault(parts[1], set()).add(parts[2])
    customers = sorted(purchases)
    chosen = sorted(rng.sample(customers, 600))
    start = datetime.date(1997, 6, 1)
    rows = []
    sat_of = {}
    for cust in chosen:
        repeat = len(purchases[cust]) > 1
        img = rng.gauss(0.3 if repeat else 0.0, 1)
        exp = 0.5 * img + rng.gauss(0, 0.85)
        qua = 0.6 * exp + rng.gauss(0, 0.8)
        val = 0.4 * qua + 0.2 * exp + rng.gauss(0, 0.85)
        sat = 0.25 * img + 0.1 * exp + 0.35 * qua + 0.3 * val + rng.gauss(0, 0.5)
        com = 0.6 * sat + rng.gauss(0, 0.8)
        loy = 0.2 * img + 0.5 * sat + 0.15 * com + rng.gauss(0, 0.7)
        latent = {'img': img, 'exp': exp, 'qua': qua, 'val': val, 'sat': sat, 'com': com,
                  'loy': loy}
        sat_of[cust] = sat
        day = start + datetime.timedelta(days=rng.randrange(0, 122))
        row = {'customer': cust, 'date': day.isoformat()}
        for item, construct in ITEMS:
            if rng.random() < 0.03:
                row[item] = ''
                continue
            v = 7.0 + 1.3 * latent[construct] + rng.gauss(0, 0.9)
            row[item] = str(int(round(clamp(v, 1, 10))))
        rec = 7.0 + 1.6 * loy + rng.gauss(0, 1.0)
        row['RECOMMEND'] = str(int(round(clamp(rec, 0, 10))))
        rows.append(row)
    with open(os.path.join(DATA, 'demo_survey.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, ['customer', 'date'] + [i for i, _ in ITEMS] + ['RECOMMEND'],
                           lineterminator='\n')
        w.writeheader()
        w.writerows(rows)
    complaints = set()
    weights = [(c, 2.5 if sat_of.get(c, 0) < -0.8 else 1.0) for c in customers]
    total = sum(w for _, w in weights)
    out = []
    while len(out) < 150:
        x = rng.random() * total
        for cust, wgt in weights:
            x -= wgt
            if x <= 0:
                break
        day = datetime.date(1997, 3, 1) + datetime.timedelta(days=rng.randrange(0, 214))
        if (cust, day) in complaints:
            continue
        complaints.add((cust, day))
        severity = rng.choice([1, 1, 1, 2, 2, 3])
        resolved = ''
        if rng.random() < 0.8:
            resolved = (day + datetime.timedelta(days=rng.randrange(0, 21))).isoformat()
        out.append((cust, day.isoformat(), severity, resolved))
    out.sort()
    with open(os.path.join(DATA, 'demo_complaints.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['customer', 'ts', 'severity', 'resolved'])
        w.writerows(out)


if __name__ == '__main__':
    main()
