#!/usr/bin/env python3
# The JIT image of a pinned BPF program, raw, for objdump (this bpftool is
# built without libbfd, so `bpftool prog dump jited` cannot print it):
#   python3 bench/jit-image.py /sys/fs/bpf/.../prog out.bin
#   objdump -b binary -m i386:x86-64 -D out.bin
import ctypes
import os
import struct
import sys

NR_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD = 7, 15
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(NR_BPF, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        sys.exit(f"jit-image: bpf({cmd}): {os.strerror(e)}")
    return r


def info(fd, jited_len=0, jited_ptr=0):
    # struct bpf_prog_info up to xlated_prog_insns: type, id, tag[8],
    # jited_prog_len, xlated_prog_len, jited_prog_insns, xlated_prog_insns
    raw = ctypes.create_string_buffer(struct.pack("<II8sIIQQ", 0, 0, b"", jited_len, 0, jited_ptr, 0), 40)
    bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("<IIQ", fd, 40, ctypes.addressof(raw)))
    return struct.unpack("<II8sIIQQ", raw.raw)


path = ctypes.create_string_buffer(sys.argv[1].encode())
fd = bpf(BPF_OBJ_GET, struct.pack("<QII", ctypes.addressof(path), 0, 0))
n = info(fd)[3]
if n == 0:
    sys.exit(f"jit-image: {sys.argv[1]}: no JIT image (not JITed, or no permission)")
img = ctypes.create_string_buffer(n)
info(fd, n, ctypes.addressof(img))
with open(sys.argv[2], "wb") as f:
    f.write(img.raw)
