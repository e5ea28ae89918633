#!/usr/bin/env python3
"""Print MAJOR.MINOR.PATCH read from include/custscore.h (used by meson.build)."""
import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
header = os.path.join(here, os.pardir, 'include', 'custscore.h')
text = open(header, encoding='utf-8').read()
parts = []
for name in ('MAJOR', 'MINOR', 'PATCH'):
    m = re.search(r'#define\s+CUSTSCORE_VERSION_%s\s+(\d+)' % name, text)
    if not m:
        sys.exit('CUSTSCORE_VERSION_%s not found in %s' % (name, header))
    parts.append(m.group(1))
print('.'.join(parts))
