#!/usr/bin/env python3
"""The state a daemon saved in STATE_DIR, as its next start reads it:
state.json with state.journal's records replayed over it (when the
journal's first line names this state.json by the FNV-1a hash of its
text), printed as JSON with sorted keys. Written apart from daemon/
persist.c, so that the tests check the C replay against it."""
import json
import os
import sys


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def replay(doc, rec):
    nfs = [n for n in doc.get("nfs", []) if n.get("name") == rec.get("nf")]
    if not nfs:
        return
    n = nfs[0]
    if isinstance(rec.get("nf_fields"), dict):
        colls = n.get("collections")
        n.clear()
        n.update(rec["nf_fields"])
        if colls is not None:
            n["collections"] = colls
        return
    v = rec.get("value")
    if isinstance(v, dict):
        n.setdefault("collections", {}).setdefault(rec["coll"], {})[rec["key"]] = v
    else:
        n.get("collections", {}).get(rec["coll"], {}).pop(rec["key"], None)


def main():
    d = sys.argv[1]
    text = open(os.path.join(d, "state.json"), "rb").read()
    doc = json.loads(text)
    try:
        lines = open(os.path.join(d, "state.journal"), "rb").read().split(b"\n")
    except FileNotFoundError:
        lines = []
    # The last element is what follows the last newline: a record cut
    # short, or nothing.
    for i, line in enumerate(lines[:-1]):
        rec = json.loads(line)
        if i == 0:
            if rec.get("base") != "%016x" % fnv1a(text):
                break
            continue
        replay(doc, rec)
    print(json.dumps(doc, sort_keys=True))


main()
