"""A seccomp filter for sandboxed apps: the system calls a computation never needs are refused.

The sandbox shares the host's kernel, so every system call is a way to reach a kernel bug. This
filter (classic BPF, as ``bwrap --seccomp`` takes it; no libseccomp needed) refuses, with EPERM,
the calls that open the widest doors and that no batch computation makes: new namespaces
(``unshare`` and ``clone`` with any ``CLONE_NEW*`` flag, ``setns``; unprivileged user
namespaces are the usual first step of kernel exploits), the kernel keyring (the worker's session
keyring is inherited), eBPF, perf events, userfaultfd, io_uring, mounting, kernel modules,
kexec, swap, reboot, the kernel log and process accounting. ``clone3`` answers ENOSYS, since its
flags cannot be inspected: the C library then falls back to ``clone``, whose flags can. A call
from another ABI (32-bit x86, x32) kills the process, so the table cannot be sidestepped.

@custom:security A denylist, like Docker's and Flatpak's defaults in spirit: it narrows the
kernel's surface but every call not listed stays allowed. Only x86-64 and aarch64 are known;
elsewhere no filter is installed and ``describe()`` says so.
"""

from __future__ import annotations

import errno
import platform
import struct
import sys

__all__ = ["AUDIT_ARCHES", "DENIED", "denylist_filter"]

#: The audit architecture numbers of the machines the syscall table below covers.
AUDIT_ARCHES = {"x86_64": 0xC000_003E, "aarch64": 0xC000_00B7}

#: Refused calls: name → (x86-64 number, aarch64 number; None where the call does not exist).
DENIED: dict[str, tuple[int | None, int | None]] = {
    "setns": (308, 268),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "open_by_handle_at": (304, 265),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
    "syslog": (103, 116),
    "acct": (163, 89),
    "quotactl": (179, 60),
    "lookup_dcookie": (212, 18),
    "uselib": (134, None),
    "iopl": (172, None),
    "ioperm": (173, None),
}
#: Calls whose first argument is checked for namespace flags.
_CLONE = {"x86_64": 56, "aarch64": 220}
_UNSHARE = {"x86_64": 272, "aarch64": 97}
_CLONE3 = 435
#: CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
#: CLONE_NEWNET | CLONE_NEWTIME
CLONE_NEW_ANY = 0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000
CLONE_NEW_ANY |= 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x0000_0080
_X32_BIT = 0x4000_0000

# classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h)
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_RET_K = 0x06
_RET_ALLOW = 0x7FFF_0000
_RET_ERRNO = 0x0005_0000
_RET_KILL_PROCESS = 0x8000_0000
# offsets in struct seccomp_data: nr, arch, instruction pointer, args[6] (little-endian words)
_NR, _ARCH, _ARG0_LOW = 0, 4, 16


def denylist_filter(machine: str | None = None) -> bytes | None:
    """The filter program for ``machine`` (default: this one), or None for an unknown one."""
    machine = machine or platform.machine()
    if machine not in AUDIT_ARCHES or sys.byteorder != "little":
        return None
    column = 0 if machine == "x86_64" else 1
    denied = sorted({n for numbers in DENIED.values() if (n := numbers[column]) is not None})
    program = [
        _stmt(_LD_W_ABS, _ARCH),
        _jump(_JEQ_K, AUDIT_ARCHES[machine], 1, 0),
        _stmt(_RET_K, _RET_KILL_PROCESS),
        _stmt(_LD_W_ABS, _NR),
    ]
    if machine == "x86_64":
        program += [_jump(_JSET_K, _X32_BIT, 0, 1), _stmt(_RET_K, _RET_KILL_PROCESS)]
    for number in denied:
        program += [_jump(_JEQ_K, number, 0, 1), _stmt(_RET_K, _RET_ERRNO | errno.EPERM)]
    program += [
        _jump(_JEQ_K, _CLONE3, 0, 1),
        _stmt(_RET_K, _RET_ERRNO | errno.ENOSYS),
        _jump(_JEQ_K, _CLONE[machine], 1, 0),
        _jump(_JEQ_K, _UNSHARE[machine], 0, 3),
        _stmt(_LD_W_ABS, _ARG0_LOW),
        _jump(_JSET_K, CLONE_NEW_ANY, 0, 1),
        _stmt(_RET_K, _RET_ERRNO | errno.EPERM),
        _stmt(_RET_K, _RET_ALLOW),
    ]
    return b"".join(program)


def _stmt(code: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, 0, 0, k)


def _jump(code: int, k: int, if_true: int, if_false: int) -> bytes:
    return struct.pack("<HBBI", code, if_true, if_false, k)
