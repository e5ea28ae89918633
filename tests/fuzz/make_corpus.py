#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

usage: make_corpus.py [SHARED_DATA_DIR]   (default ../shared/data)

Seeds are small excerpts of the real input formats: the CDNOW files
(lifetimes, MIT), UCI Online Retail (CC BY 4.0), the R `rfm` package's sample
orders (MIT), IBM Telco churn (Apache-2.0), plus short synthetic files for
the formats without a free data set (survey answers, complaints, survey
models). No ECSI (GPL) material. The first bytes of a CSV seed choose the
import options the way cs_fuzz_csv() decodes them (fuzz_targets.c).
Re-running it rewrites the same files; the outputs are committed so that the
replay test does not need ../shared.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', '..', 'shared', 'data')


def out(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def lines_of(rel, first, count, keep_header=True):
    path = os.path.join(SHARED, rel)
    with open(path, 'rb') as f:
        raw = f.read().splitlines(keepends=True)
    head = raw[:1] if keep_header else []
    return b''.join(head + raw[first:first + count])


def opts(kind, skip_bad=False, stop=0, delim=0, whitespace=False, no_header=False,
         cancel=None, wide_cust=0, map_index=0, format_index=0, wide_date=0):
    """The three option bytes of cs_fuzz_csv (see fz_import_options)."""
    a = kind | (8 if skip_bad else 0) | ((16 | ((stop - 1) << 5)) if stop else 0)
    b = delim | (8 if whitespace else 0) | (16 if no_header else 0)
    if cancel is not None:
        b |= 32 | (64 if cancel == 'C' else 0)
    b |= wide_cust << 6
    c = map_index | (format_index << 4) | (wide_date << 6)
    return bytes([a, b, c])


ORDERS, CUSTOMERS, RESPONSES, WIDE, COMPLAINTS, WHITESPACE = range(6)


def csv_seeds():
    # CDNOW sample: whitespace, no header, customer=2,ts=3,revenue=5 (map 3); CRLF.
    out('csv', 'cdnow_sample', opts(WHITESPACE, map_index=3) +
        lines_of('lifetimes-datasets/CDNOW_sample.txt', 0, 30, keep_header=False))
    # CDNOW master: customer=1,ts=2,revenue=4 (map 4).
    out('csv', 'cdnow_master', opts(WHITESPACE, map_index=4) +
        lines_of('lifetimes-datasets/CDNOW_master.txt', 1, 30, keep_header=False))
    retail = 'online-retail/online-retail-2010-12-01_2011-12-09.csv'
    # Online Retail: header aliases, lines summed per invoice, quantity x price.
    out('csv', 'retail_lines', opts(ORDERS) + lines_of(retail, 1, 25))
    # Cancellations (C prefix) and lines without a customer, skipped.
    out('csv', 'retail_cancel_skip', opts(ORDERS, skip_bad=True, cancel='C', map_index=5) +
        lines_of(retail, 1, 1) + lines_of(retail, 140, 20, keep_header=False) +
        lines_of(retail, 620, 8, keep_header=False))
    # The same lines with US dates as the original spreadsheet export has them.
    body = lines_of(retail, 1, 12).decode()
    conv = []
    for i, line in enumerate(body.splitlines()):
        if i:
            f = line.split(',')
            y, m, rest = f[4][:4], f[4][5:7], f[4][8:]
            d, hm = rest[:2], rest[3:8]
            f[4] = '%d/%d/%s %d:%s' % (int(m), int(d), y, int(hm[:2]), hm[3:])
            line = ','.join(f)
        conv.append(line)
    out('csv', 'retail_us_dates', opts(ORDERS, format_index=5) + ('\r\n'.join(conv) + '\r\n').encode())
    # rfm sample orders: quoted header names, customer names as keys.
    out('csv', 'rfm_orders', opts(ORDERS) + lines_of('rfm/rfm_data_orders.csv', 1, 25))
    # Telco customers: attributes, text and numbers; TotalCharges may be blank.
    out('csv', 'telco_customers', opts(CUSTOMERS) + lines_of('telco-churn/Telco-Customer-Churn.csv', 1, 12))
    out('csv', 'telco_customers_skip', opts(CUSTOMERS, skip_bad=True, stop=3) +
        lines_of('telco-churn/Telco-Customer-Churn.csv', 480, 12))
    # Synthetic: long survey answers, wide answers, complaints, costs, delimiters.
    out('csv', 'responses_long', opts(RESPONSES) +
        b'customer,ts,item,value\nc1,2024-01-05,Q1,7\nc1,2024-01-05,Q2,\nc2,2024-01-06T10:00:00Z,Q1,10\n'
        b'c2,2024-01-06T10:00:00Z,Q1,9\nc3,20240107,NPS,0\nc4,bad-date,Q1,3\n')
    out('csv', 'responses_wide', opts(WIDE, wide_cust=2, wide_date=2) +
        b'id,date,Q1,Q2,Q3\nr1,05 Jan 2024,7,8,\nr2,6 feb 2024,1,10,5.5\nr3,07 Mar 2024,x,1,1\n')
    out('csv', 'responses_wide_default', opts(WIDE, wide_cust=1) +
        b'respondent;A1;A2\n1;3;4\n2;5;\n')
    out('csv', 'complaints', opts(COMPLAINTS, skip_bad=True) +
        b'customer,ts,severity,resolved\nc1,2024-02-01,2,2024-02-03\nc1,2024-02-01,3,\n'
        b'c2,2024-02-05,1,2024-02-04\nc3,2024-02-06,,\n')
    out('csv', 'orders_cost_semicolon', opts(ORDERS, delim=2) +
        b'customer;order;ts;revenue;cost\nA;1;2024-01-01;100;60\nA;1;2024-01-01;-20;\n'
        b'B;2;2024-01-02;1e3;-5\nB;3;2024-01-03;NaN;1\n')
    out('csv', 'orders_tab_positions', opts(ORDERS, delim=3, no_header=True, map_index=10) +
        b'A\to1\t2024-01-01\t10\t1\nB\to2\t2024-01-02\t20\t\n')
    out('csv', 'orders_quoted', opts(ORDERS, skip_bad=True) +
        b'\xef\xbb\xbf"customer","order","ts","revenue"\r\n"A ""x""","1\n2","2024-01-01",5\r\n'
        b'"B",2,2024-01-01,"1"x\r\nC,3,2024-01-01,7\r\n"D,4,2024-01-01,1\n')
    out('csv', 'customers_created', opts(CUSTOMERS, map_index=11, no_header=True) +
        b'A,2020-01-01\nB,\nC,notadate\n')


def time_seeds():
    texts = ['1997-01-01', '2010-12-01 08:26:00', '2023-02-28T23:59:59+05:30',
             '2024-02-29T12:00:00.123456789Z', '19970101', '@1700000000', '1700000000',
             '@-86400', '2023-02-30', '  2011-12-09 12:50  ', '0001-01-01', '9999-12-31T23:59:59']
    for i, t in enumerate(texts):
        out('time', 'iso_%02d' % i, b'\x00' + t.encode())
    formatted = [(0, '01/12/2010 08:26'), (1, '12/01/2010'), (2, '20101201'),
                 (3, '2010-12-01 08:26:00'), (4, '5 Jan 2024'), (5, '032/24'),
                 (6, ' 5.1.2024'), (9, 'Feb  3 2024 10:30')]
    for idx, t in formatted:
        out('time', 'format_%02d' % idx, bytes([(idx << 2) | 1]) + t.encode())
    out('time', 'own_format', b'\x02%m/%d/%Y %H:%M\x0012/1/2010 8:26')
    out('time', 'own_format_bad', b'\x02%Y-%q\x002024-1')
    out('time', 'roundtrip', b'\x03' + struct.pack('>BQ', 250, 0x8000000000000000) +
        struct.pack('>Q', 0x7fffffffffffffff))


# API byte stream (see fz_api_op): op codes
ADD_CUSTOMER, ADD_ORDER, ADD_ORDER_NOKEY, ADD_RESPONSE, ADD_COMPLAINT, SET_ATTR, SET_ATTR_TEXT, \
    BEGIN, COMMIT, ROLLBACK, IMPORT, SUMMARY_EACH, SUMMARY_ONE, COUNT, BUSY, REOPEN, FORMAT, ERRSTR = range(18)


def api_seeds():
    def order(cust, key, ts, rev, cost, has_cost=0, want_replaced=1):
        return bytes([ADD_ORDER, cust, key, ts, rev, cost, has_cost, want_replaced])
    s = bytes([ADD_CUSTOMER, 0, 6])
    s += order(0, 1, 6, 4, 3) + order(0, 1, 7, 3, 0, 1) + order(1, 2, 8, 5, 2, 1)
    s += bytes([ADD_ORDER_NOKEY, 2, 9, 4, 0, 0, 0])
    s += bytes([SUMMARY_EACH, 0x80]) + bytes([SUMMARY_ONE, 0, 14]) + bytes([COUNT])
    out('api', 'orders_summary', s)
    s = bytes([BEGIN]) + order(0, 1, 6, 4, 3) + order(3, 4, 7, 10, 0) + bytes([ROLLBACK, COUNT])
    s += bytes([BEGIN]) + order(0, 1, 6, 4, 3) + bytes([COMMIT, SUMMARY_EACH, 0xc0])
    out('api', 'batch_rollback', s)
    bad = order(200, 1, 6, 4, 3) + order(0, 201, 6, 4, 3) + order(0, 1, 6, 235, 3) + \
        order(0, 1, 6, 4, 5, 1) + bytes([ADD_RESPONSE, 0, 6, 202, 1]) + \
        bytes([ADD_COMPLAINT, 0, 7, 1, 0, 6]) + bytes([SET_ATTR, 0, 1, 240]) + \
        bytes([SET_ATTR_TEXT, 0, 1, 204, 20] + [0x41] * 20)
    out('api', 'invalid_inputs', bad)
    cdnow = lines_of('lifetimes-datasets/CDNOW_sample.txt', 0, 4, keep_header=False)[:250]
    s = bytes([IMPORT, 5, 0, 3, len(cdnow)]) + cdnow + bytes([SUMMARY_EACH, 0x82, COUNT])
    s += bytes([IMPORT, 5, 0, 3, len(cdnow)]) + cdnow + bytes([SUMMARY_EACH, 0x80])
    out('api', 'import_cdnow', s)
    s = order(0, 1, 14, 4, 3) + order(1, 2, 15, 4, 3) + bytes([SUMMARY_EACH, 0x00, 16])
    s += bytes([SUMMARY_EACH, 0x01, 15]) + bytes([FORMAT, 15, 0, FORMAT, 250]) + b'\x80' * 8
    s += bytes([BUSY, 0xff, REOPEN, COUNT, ERRSTR, 0xf4])
    out('api', 'extreme_times', s)


def survey_seeds():
    out('survey', 'three_constructs',
        'model demo\nscale 1..10\n'
        'construct Image mode A: IMG1 IMG2 IMG3(1..5, reverse)\n'
        'construct Value mode A: VAL1 VAL2\n'
        'construct Satisfaction mode A: SAT1 SAT2 SAT3\n'
        'path Image -> Value Satisfaction\npath Value -> Satisfaction\n'
        'target Satisfaction\nnps REC\n')
    out('survey', 'mode_b_weights',
        '# five dimensions\nmodel five\nscale 0..10\n'
        'construct Product mode B: P1 P2(weight=2)\nconstruct Service mode A: S1 S2\n'
        'construct "Overall sat" mode A: O1\npath Product -> "Overall sat"\n'
        'path Service -> "Overall sat"\ntarget "Overall sat"\n')
    out('survey', 'with_mapping',
        b'model m\nscale 1..7\nconstruct A mode A: a1 a2\nconstruct Satisfaction mode A: s1 s2\n'
        b'path A -> Satisfaction\n\x00A=col1+col2,Satisfaction=col3+col4')
    out('survey', 'errors', 'model x\nscale 5..1\nconstruct A mode C: \npath A -> B\n')


if __name__ == '__main__':
    csv_seeds()
    time_seeds()
    api_seeds()
    survey_seeds()
