"""Denying a file to a process that runs as root, for real: without its file-permission capabilities."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")

_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_file_permission_override() -> None:
    """Take CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH out of this thread's effective capabilities.

    The tests run as root, and root reads a mode-000 file. Without these two capabilities the
    kernel checks a file's mode bits for root as for anyone, so a mode-000 file is refused with
    EACCES for real. Capabilities belong to a thread (and the threads it starts), so the rest of
    the test process keeps them; the thread ends with the work, so nothing needs restoring.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    data[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def in_thread(work: Callable[[], _T], *, before: Callable[[], None] | None = None) -> _T:
    """`work()` run on a new thread (after `before()` there); its result, or its exception, here."""
    results: list[_T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            if before is not None:
                before()
            results.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="work")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def without_file_permission_override(work: Callable[[], _T]) -> _T:
    """`work()` run on a thread that, although root, gets EACCES for files its mode bits deny."""
    return in_thread(work, before=drop_file_permission_override)
