#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets in fuzz/corpus/ (run from the repository root).

- scxml_parse: tests/w3c/*.scxml.
- config_parse: samples/gms.ini, fuzz/seeds/*.ini, and every option-file snippet (a string literal with `[`,
  `=` and a newline) in tests/api/config_*.rs, tests/notify/config.rs and src/config/*.rs (the seed document's
  [Dnis_Pool] example is in src/config/mod.rs).
- dfm_load: dfm/*.txt and every DFM snippet (a string literal with an element) in tests/ors/dfm_load.rs.
- http_body: the bodies below (first line the Content-Type, then the body): forms, JSON objects and not objects,
  multipart bodies with text parts, files, quoted boundaries and a missing end.

Files are named by the SHA-1 of their content, so running it twice adds nothing.
"""
import glob
import hashlib
import os
import re
import shutil


def literals(src):
    """The string literals of Rust source `src`, unescaped (raw strings as written)."""
    i, n = 0, len(src)
    while i < n:
        if src.startswith('//', i):
            j = src.find('\n', i)
            i = n if j < 0 else j
            continue
        m = re.match(r'r(#*)"', src[i:])
        if m and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == '_')):
            hashes = m.group(1)
            start = i + len(m.group(0))
            end = src.find('"' + hashes, start)
            yield src[start:end]
            i = end + 1 + len(hashes)
            continue
        if src.startswith("'\"'", i):
            i += 3
            continue
        if src.startswith("'\\\"'", i):
            i += 4
            continue
        if src[i] == '"':
            j, out = i + 1, []
            while j < n and src[j] != '"':
                if src[j] != '\\':
                    out.append(src[j])
                    j += 1
                    continue
                e = src[j + 1]
                if e in 'nrt0':
                    out.append({'n': '\n', 'r': '\r', 't': '\t', '0': '\0'}[e])
                    j += 2
                elif e == 'u':
                    k = src.find('}', j)
                    out.append(chr(int(src[j + 3:k], 16)))
                    j = k + 1
                elif e == 'x':
                    out.append(chr(int(src[j + 2:j + 4], 16)))
                    j += 4
                elif e == '\n':
                    j += 2
                    while j < n and src[j] in ' \t\n':
                        j += 1
                else:
                    out.append(e)
                    j += 2
            yield ''.join(out)
            i = j + 1
            continue
        i += 1


def save(outdir, data):
    with open(os.path.join(outdir, hashlib.sha1(data).hexdigest()), 'wb') as f:
        f.write(data)


def seed(target, files, sources, wanted):
    outdir = os.path.join('fuzz', 'corpus', target)
    os.makedirs(outdir, exist_ok=True)
    for path in files:
        with open(path, 'rb') as f:
            save(outdir, f.read())
    for path in sources:
        with open(path, encoding='utf-8') as f:
            for literal in literals(f.read()):
                if wanted(literal):
                    save(outdir, literal.encode('utf-8'))
    print(f'{outdir}: {len(os.listdir(outdir))} files')


def is_ini(text):
    return '[' in text and '=' in text and '\n' in text and '<' not in text


def is_dfm(text):
    return '<' in text and '>' in text and any(word in text for word in ('dfm', 'action', 'param'))


seed('scxml_parse', sorted(glob.glob('tests/w3c/*.scxml')), [], lambda _: False)
seed(
    'config_parse',
    ['samples/gms.ini'] + sorted(glob.glob('fuzz/seeds/*.ini')),
    sorted(glob.glob('tests/api/config_*.rs') + ['tests/notify/config.rs'] + glob.glob('src/config/*.rs')),
    is_ini,
)
seed('dfm_load', sorted(glob.glob('dfm/*.txt')), ['tests/ors/dfm_load.rs'], is_dfm)

MULTIPART = (
    b'--XyZ\r\nContent-Disposition: form-data; name="firstName"\r\n\r\nJohn\r\n'
    b'--XyZ\r\nContent-Disposition: form-data; name="photo"; filename="a.png"\r\n'
    b'Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n'
    b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
    b'caf\xc3\xa9\r\n--XyZ--\r\n'
)
HTTP_BODIES = [
    b'application/x-www-form-urlencoded\nfirstName=John&lastName=Doe&_customer_number=123',
    b'application/x-www-form-urlencoded; charset=UTF-8\na=%41%zz&b=+x+&&=&c',
    b'\nkey=value&other=%E2%82%AC',
    b'application/json\n{"firstName":"John","_provide_code":true,"n":1.5,"list":[1,{"a":null}]}',
    b'Application/JSON; charset=utf-8\n{"a":"\\ud83d\\ude00","b":{"c":[[],{}]}}',
    b'application/json\n[1,2,3]',
    b'application/json\n{"unterminated":',
    b'text/plain\nhello',
    b'multipart/form-data; boundary=XyZ\n' + MULTIPART,
    b'multipart/form-data; boundary="XyZ"\n' + MULTIPART,
    b'multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end',
    b'multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--XyZ--\r\n',
    b'multipart/form-data\n--XyZ--\r\n',
]
outdir = os.path.join('fuzz', 'corpus', 'http_body')
os.makedirs(outdir, exist_ok=True)
for body in HTTP_BODIES:
    save(outdir, body)
print(f'{outdir}: {len(os.listdir(outdir))} files')
