"""The seccomp filter program, run on a small classic-BPF interpreter (no kernel needed)."""

import errno
import struct

import pytest

from nuage.sandbox.seccomp import AUDIT_ARCHES, CLONE_NEW_ANY, DENIED, denylist_filter

ALLOW = 0x7FFF_0000
KILL = 0x8000_0000
EPERM = 0x0005_0000 | errno.EPERM
ENOSYS = 0x0005_0000 | errno.ENOSYS
CLONE = {"x86_64": 56, "aarch64": 220}
UNSHARE = {"x86_64": 272, "aarch64": 97}
CLONE_NEWUSER = 0x1000_0000


def evaluate(program: bytes, arch: int, nr: int, arg0: int = 0) -> int:
    """What the kernel would return for this call: a tiny interpreter of the opcodes we use."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    instructions = [struct.unpack("<HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    accumulator, pc = 0, 0
    while True:
        code, jt, jf, k = instructions[pc]
        if code == 0x20:  # ld word at absolute offset
            accumulator = struct.unpack_from("<I", data, k)[0]
            pc += 1
        elif code == 0x15:  # jeq
            pc += 1 + (jt if accumulator == k else jf)
        elif code == 0x45:  # jset
            pc += 1 + (jt if accumulator & k else jf)
        elif code == 0x06:  # ret
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")


@pytest.mark.parametrize("machine", sorted(AUDIT_ARCHES))
def test_every_denied_call_is_refused_and_ordinary_calls_pass(machine: str):
    program = denylist_filter(machine)
    assert program is not None and len(program) % 8 == 0
    arch = AUDIT_ARCHES[machine]
    column = 0 if machine == "x86_64" else 1
    for name, numbers in DENIED.items():
        if numbers[column] is not None:
            assert evaluate(program, arch, numbers[column]) == EPERM, name
    for ordinary in (0, 1, 3, 59, 63, 221, 231):  # read, write, close, execve, …
        if ordinary not in {n[column] for n in DENIED.values()} | {CLONE[machine]}:
            assert evaluate(program, arch, ordinary) == ALLOW, ordinary


@pytest.mark.parametrize("machine", sorted(AUDIT_ARCHES))
def test_new_namespaces_are_refused_but_threads_and_forks_are_not(machine: str):
    program = denylist_filter(machine)
    assert program is not None
    arch = AUDIT_ARCHES[machine]
    thread_flags = 0x003D_0F00  # CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD…
    assert evaluate(program, arch, CLONE[machine], thread_flags) == ALLOW
    assert evaluate(program, arch, CLONE[machine], 0x11) == ALLOW  # fork: SIGCHLD
    assert evaluate(program, arch, CLONE[machine], CLONE_NEWUSER | 0x11) == EPERM
    assert evaluate(program, arch, UNSHARE[machine], CLONE_NEWUSER) == EPERM
    assert evaluate(program, arch, UNSHARE[machine], 0x400) == ALLOW  # CLONE_FILES
    for flag in range(32):
        if CLONE_NEW_ANY & (1 << flag):
            assert evaluate(program, arch, UNSHARE[machine], 1 << flag) == EPERM
    assert evaluate(program, arch, 435) == ENOSYS  # clone3: the C library falls back to clone


def test_other_abis_are_killed():
    program = denylist_filter("x86_64")
    assert program is not None
    assert evaluate(program, 0x4000_0003, 1) == KILL  # i386 via int 0x80
    assert evaluate(program, AUDIT_ARCHES["x86_64"], 0x4000_0000 | 1) == KILL  # x32


def test_unknown_machines_get_no_filter():
    assert denylist_filter("riscv64") is None
