#!/usr/bin/env python3
"""Writes the hostile-message corpus into a folder: one file per key and value, and a
manifest (manifest.tsv) the test reads, one message a line:

    index  name  topic  key-file|-  value-file|NULL  headers|-  expectation

`expectation` is `dead:<reason>` (the message must reach the dead-letter topic, its ERROR
containing <reason>) or `ok` (processed; it must not be dead-lettered). Keys cannot hold NUL
bytes (kcat takes them as an argument).

Usage: corpus.py OUT_DIR
"""
import os
import sys


def call(cell='C1', duration=5, ts=1000, **extra):
    fields = [f'"cell":{cell}' if cell.startswith(('"', '[', '{', 'n')) else f'"cell":"{cell}"',
              f'"duration":{duration}', f'"ts":{ts}']
    fields += [f'"{name}":{value}' for name, value in extra.items()]
    return ('{' + ','.join(fields) + '}').encode()


def nested(depth):
    return b'[' * depth + b']' * depth


# (name, topic, key, value, headers, expectation); value None is a null (tombstone) value.
CORPUS = [
    ('invalid-utf8-in-string', 'calls', b'k', b'{"cell":"C\xff1","duration":5,"ts":1000}', None,
     'dead:UTF-8'),
    ('binary-garbage', 'calls', b'k', bytes(range(256)) * 4, None, 'dead:'),
    ('raw-nul-in-string', 'calls', b'k', b'{"cell":"A\x00B","duration":5,"ts":1000}', None,
     'dead:'),
    ('escaped-nul-in-string', 'calls', b'k', b'{"cell":"A\\u0000B","duration":5,"ts":1000}',
     None, 'ok'),
    ('empty-value', 'calls', b'k', b'', None, 'dead:'),
    ('null-value', 'calls', b'k', None, None, 'ok'),
    ('json-array', 'calls', b'k', b'[1,2,3]', None, 'dead:'),
    ('json-string', 'calls', b'k', b'"hello"', None, 'dead:'),
    ('json-number', 'calls', b'k', b'42', None, 'dead:'),
    # A JSON null is a value whose columns are all NULL, not a tombstone: no event time.
    ('json-null-literal', 'calls', b'k', b'null', None, 'dead:TS'),
    ('truncated-json', 'calls', b'k', b'{"cell":"C1","dura', None, 'dead:'),
    ('trailing-garbage', 'calls', b'k', call() + b' xyz', None, 'dead:'),
    ('whitespace-only', 'calls', b'k', b'   \n\t ', None, 'dead:'),
    ('utf8-bom', 'calls', b'k', b'\xef\xbb\xbf' + call(), None, 'dead:malformed JSON'),
    ('int-as-text', 'calls', b'k', call(duration='"abc"'), None, 'dead:DURATION'),
    ('int-as-boolean', 'calls', b'k', call(duration='true'), None, 'dead:DURATION'),
    ('int-out-of-range', 'calls', b'k', call(duration='2147483648'), None, 'dead:DURATION'),
    ('int-below-range', 'calls', b'k', call(duration='-2147483649'), None, 'dead:DURATION'),
    ('int-huge-exponent', 'calls', b'k', call(duration='1e30'), None, 'dead:DURATION'),
    ('bigint-beyond-double', 'calls', b'k', call(ts='1e400'), None, 'dead:'),
    ('timestamp-as-text', 'calls', b'k', call(ts='"yesterday"'), None, 'dead:TS'),
    ('timestamp-negative', 'calls', b'k', call(ts='-5'), None, 'dead:negative'),
    ('timestamp-null', 'calls', b'k', call(ts='null'), None, 'dead:TS'),
    ('invalid-surrogate-escape', 'calls', b'k', call(cell='"\\ud800"'), None, 'dead:'),
    ('overlong-utf8', 'calls', b'k', b'{"cell":"\xc0\xaf","duration":5,"ts":1000}', None,
     'dead:UTF-8'),
    ('emoji-escaped-and-raw', 'calls', b'k',
     '{"cell":"\\ud83d\\ude00 \U0001F600","duration":5,"ts":1000}'.encode(), None, 'ok'),
    ('deep-nesting-unused-field', 'calls', b'k', call(x=nested(100_000).decode()), None, 'ok'),
    # A STRING column takes any JSON value as its text.
    ('deep-nesting-used-field', 'calls', b'k', call(cell=nested(100_000).decode()), None, 'ok'),
    ('ten-thousand-fields', 'calls', b'k',
     call(**{f'f{i}': i for i in range(10000)}), None, 'ok'),
    ('duplicate-fields', 'calls', b'k', b'{"cell":"A","cell":"B","duration":5,"ts":1000}',
     None, 'ok'),
    ('oversized-group-key', 'calls', b'k', call(cell='X' * 900_000, duration=100), None,
     'dead:larger than'),
    ('large-unused-field', 'calls', b'k', call(pad='"' + 'y' * 500_000 + '"'), None, 'ok'),
    ('invalid-utf8-key', 'calls', b'\xc3\x28', call(), None, 'dead:UTF-8'),
    ('control-characters-in-key', 'calls', b'\x01\x02\x7f', call(), None, 'ok'),
    ('long-key', 'calls', b'K' * 100_000, call(), None, 'ok'),
    ('no-key', 'calls', None, call(), None, 'ok'),
    ('binary-header-values', 'calls', b'k', call(), [('h1', '\x01\x02'), ('h2', '\u00ff')], 'ok'),
    ('many-headers', 'calls', b'k', call(), [(f'h{i}', f'v{i}') for i in range(100)], 'ok'),
    ('delimited-invalid-utf8', 'readings', None, b'R\xff,0.9', None, 'dead:UTF-8'),
    ('delimited-wrong-column-count', 'readings', None, b'R1,0.9,extra', None, 'dead:columns'),
    ('delimited-not-a-number', 'readings', None, b'R1,abc', None, 'dead:DOUBLE'),
    ('delimited-binary', 'readings', None, bytes(range(1, 200)), None, 'dead:'),
    ('kafka-int-key-wrong-size', 'readings', b'abc', b'R1,0.9', None, 'dead:4 bytes'),
    ('table-invalid-utf8', 'plans', b'k', b'{"plan":"P\xfe"}', None, 'dead:UTF-8'),
    ('table-tombstone-unknown-key', 'plans', b'nobody', None, None, 'ok'),
    ('table-not-json', 'plans', b'k', b'\x00\x01plan', None, 'dead:'),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'manifest.tsv'), 'w') as manifest:
        for index, (name, topic, key, value, headers, expectation) in enumerate(CORPUS):
            key_file = '-'
            if key is not None:
                assert b'\x00' not in key, name
                key_file = os.path.join(out, f'{index:02d}.key')
                with open(key_file, 'wb') as f:
                    f.write(key)
            value_file = 'NULL'
            if value is not None:
                value_file = os.path.join(out, f'{index:02d}.value')
                with open(value_file, 'wb') as f:
                    f.write(value)
            header_text = '-'
            if headers:
                header_text = ';'.join(f'{n}={v}' for n, v in headers)
            manifest.write('\t'.join([str(index), name, topic, key_file, value_file, header_text,
                                      expectation]) + '\n')
    print(len(CORPUS))


if __name__ == '__main__':
    main()
