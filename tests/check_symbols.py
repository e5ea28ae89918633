#!/usr/bin/env python3
"""Fail when the exported symbols, the version script and the header disagree.

usage: check_symbols.py HEADER MAPFILE LIBRARY
- every function declared CUSTSCORE_API in the header is in the map,
- every symbol in the map is declared in the header,
- the library exports exactly the map's symbols (nm -D --defined-only).
"""
import re
import subprocess
import sys

header, mapfile, library = sys.argv[1:4]
htext = open(header, encoding='utf-8').read()
# Declarations: CUSTSCORE_API <type...> custscore_name(
declared = set(re.findall(r'CUSTSCORE_API\b[^;{]*?\b(custscore_\w+)\s*\(', htext, re.S))
mtext = re.sub(r'/\*.*?\*/', '', open(mapfile, encoding='utf-8').read(), flags=re.S)
mapped = set(re.findall(r'\b(custscore_\w+)\s*;', mtext))
out = subprocess.run(['nm', '-D', '--defined-only', library], check=True,
                     capture_output=True, text=True).stdout
exported = set()
for line in out.splitlines():
    parts = line.split()
    if len(parts) >= 3 and parts[1] in 'TtDdBbRrVvWw' and not parts[2].startswith('_'):
        exported.add(parts[2].split('@')[0])
exported.discard('CUSTSCORE_0')
problems = []
for name in sorted(declared - mapped):
    problems.append('declared in the header but missing from the map: ' + name)
for name in sorted(mapped - declared):
    problems.append('in the map but not declared in the header: ' + name)
for name in sorted(mapped - exported):
    problems.append('in the map but not exported by the library: ' + name)
for name in sorted(exported - mapped):
    problems.append('exported by the library but not in the map: ' + name)
for p in problems:
    print(p)
print('%d symbols checked: %d declared, %d mapped, %d exported' %
      (len(declared | mapped | exported), len(declared), len(mapped), len(exported)))
sys.exit(1 if problems else 0)
