#!/usr/bin/env python3
"""mapsum.py [--mask NAME:OFF:LEN]... [--skip NAME]... PIN...: one line
per pinned BPF map, its path and a digest of every (key, value) it holds;
the bytes OFF..OFF+LEN of each value of the maps named NAME are zeroed
first (a generation that counts writes, not content), maps named by --skip
are listed only. bpftool map dump prints the same content but
takes tens of seconds on the router's large arrays; the comparisons of the
refusal tests need it a dozen times. Pins that are not maps (programs), and
maps userspace cannot read (ring buffers), print as such."""
import ctypes
import errno
import hashlib
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
SYS_BPF = 321  # x86_64
BPF_MAP_LOOKUP_ELEM, BPF_MAP_GET_NEXT_KEY = 1, 4
BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD = 7, 15
BPF_MAP_LOOKUP_BATCH = 24
PERCPU = {5, 6, 10, 21}  # percpu hash, array, lru hash, cgroup storage


def bpf(cmd, attr):
    r = libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    return r, ctypes.get_errno()


def possible_cpus():
    n = 0
    for part in open("/sys/devices/system/cpu/possible").read().strip().split(","):
        a, _, b = part.partition("-")
        n += int(b or a) - int(a) + 1
    return n


def lookup_batch(fd, ksz, vsz, masks):
    """All entries in a few calls; None where the map type has no batch."""
    chunk = 8192
    keys = (ctypes.c_uint8 * (ksz * chunk))()
    vals = (ctypes.c_uint8 * (vsz * chunk))()
    inb = (ctypes.c_uint8 * 64)()
    outb = (ctypes.c_uint8 * 64)()
    h = hashlib.sha256()
    first, n = True, 0
    while True:
        attr = (ctypes.c_uint8 * 128)()
        ctypes.c_uint64.from_buffer(attr, 0).value = 0 if first else ctypes.addressof(inb)
        ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(outb)
        ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(keys)
        ctypes.c_uint64.from_buffer(attr, 24).value = ctypes.addressof(vals)
        ctypes.c_uint32.from_buffer(attr, 32).value = chunk
        ctypes.c_uint32.from_buffer(attr, 36).value = fd
        r, err = bpf(BPF_MAP_LOOKUP_BATCH, attr)
        got = ctypes.c_uint32.from_buffer(attr, 32).value
        if r < 0 and err != errno.ENOENT:
            return None if first else "batch failed: " + os.strerror(err)
        if masks:
            for i in range(got):
                for off, ln in masks:
                    ctypes.memset(ctypes.addressof(vals) + i * vsz + off, 0, ln)
        ents = sorted((bytes(keys[i * ksz:(i + 1) * ksz]), bytes(vals[i * vsz:(i + 1) * vsz])) for i in range(got)) if got < 4096 else None
        if ents is None:
            h.update(bytes(keys[:got * ksz]))
            h.update(bytes(vals[:got * vsz]))
        else:
            for k, v in ents:
                h.update(k + v)
        n += got
        if r < 0:
            return "%d entries %s" % (n, h.hexdigest()[:16])
        first = False
        ctypes.memmove(inb, outb, 64)


BPF_PROG_GET_FD_BY_ID, PROG_ARRAY = 13, 3


def obj_info(fd, size):
    """The object's info (a map's, a program's): (bytes, 0) or (None, errno)."""
    info = (ctypes.c_uint8 * size)()
    attr = (ctypes.c_uint8 * 128)()
    ctypes.c_uint32.from_buffer(attr, 0).value = fd
    ctypes.c_uint32.from_buffer(attr, 4).value = len(info)
    ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(info)
    r, err = bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
    return (info, 0) if r == 0 else (None, err)


def prog_tag(pid):
    """A program array's value as its program's tag (a hash of its
    instructions), not its id: an NF deleted and put back by an undo is
    the same program under a new id, and its own slot (NFC_NF_SLOT) holds
    it even when nothing leads to it."""
    attr = (ctypes.c_uint8 * 128)()
    ctypes.c_uint32.from_buffer(attr, 0).value = pid
    fd, err = bpf(BPF_PROG_GET_FD_BY_ID, attr)
    if fd < 0:
        return b"prog %d gone" % pid
    try:
        info, err = obj_info(fd, 256)
        return bytes(info[0:4]) + bytes(info[8:16]) if info else b"info failed"
    finally:
        os.close(fd)


def digest(path, masks):
    attr = (ctypes.c_uint8 * 128)()
    p = ctypes.create_string_buffer(path.encode())
    ctypes.c_uint64.from_buffer(attr, 0).value = ctypes.addressof(p)
    fd, err = bpf(BPF_OBJ_GET, attr)
    if fd < 0:
        return "open failed: " + os.strerror(err)
    try:
        info, err = obj_info(fd, 88)
        if not info:
            return "info failed: " + os.strerror(err)
        mtype, _, ksz, vsz = (ctypes.c_uint32.from_buffer(info, o).value for o in (0, 4, 8, 12))
        if ksz == 0 or ksz > 512 or vsz > (1 << 22):
            return "not a map"  # a program's info reads as nonsense here
        if mtype in PERCPU:
            vsz = (vsz + 7) // 8 * 8 * possible_cpus()
        batch = lookup_batch(fd, ksz, vsz, masks) if mtype != PROG_ARRAY else None
        if batch is not None:
            return batch
        key = (ctypes.c_uint8 * max(ksz, 1))()
        nxt = (ctypes.c_uint8 * max(ksz, 1))()
        val = (ctypes.c_uint8 * max(vsz, 1))()
        h = hashlib.sha256()
        first, n = True, 0
        while True:
            attr = (ctypes.c_uint8 * 128)()
            ctypes.c_uint32.from_buffer(attr, 0).value = fd
            ctypes.c_uint64.from_buffer(attr, 8).value = 0 if first else ctypes.addressof(key)
            ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(nxt)
            r, err = bpf(BPF_MAP_GET_NEXT_KEY, attr)
            if r < 0:
                break
            first = False
            ctypes.memmove(key, nxt, ksz)
            attr = (ctypes.c_uint8 * 128)()
            ctypes.c_uint32.from_buffer(attr, 0).value = fd
            ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(key)
            ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(val)
            r, err = bpf(BPF_MAP_LOOKUP_ELEM, attr)
            for off, ln in masks:
                ctypes.memset(ctypes.addressof(val) + off, 0, ln)
            h.update(bytes(key))
            if r == 0 and mtype == PROG_ARRAY:
                h.update(prog_tag(int.from_bytes(bytes(val[:4]), "little")))
            else:
                h.update(bytes(val) if r == 0 else b"lookup failed %d" % err)
            n += 1
        return "%d entries %s" % (n, h.hexdigest()[:16])
    finally:
        os.close(fd)


MASKS, SKIP, pins = {}, set(), []
args = iter(sys.argv[1:])
for a in args:
    if a == "--mask":
        name, off, ln = next(args).split(":")
        MASKS.setdefault(name, []).append((int(off), int(ln)))
    elif a == "--skip":
        SKIP.add(next(args))
    else:
        pins.append(a)
for pin in pins:
    name = os.path.basename(pin)
    print(pin, "skipped" if name in SKIP else digest(pin, MASKS.get(name, [])))
