"""Child processes that do not outlive the process that started them, even when it is SIGKILLed."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1

# Looked up in the parent: the child of a threaded process may only call what is already loaded.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def die_with_parent(parent_pid: int) -> None:
    """A `preexec_fn`: Linux sends SIGTERM to the child when its parent dies, however it dies.

    The embedded servers run in their own sessions (so Ctrl-C reaches only the app, which then
    stops them in order); without this a SIGKILLed app would leave them running, holding ports and
    data directories. Elsewhere than Linux it does nothing.
    """
    if _prctl is None:
        return
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    # The parent may have died between fork and prctl: then nobody will send the signal.
    if os.getppid() != parent_pid:
        os._exit(1)


def exit_when_gone(pid: int, interval_s: float = 1.0) -> None:
    """In a worker process: exit as soon as process `pid` (the app) no longer exists.

    For the extraction workers, whose parent is multiprocessing's fork server rather than the app:
    they hold their own task queue open, so without this they would wait on it forever after a
    SIGKILLed app, and keep the fork server alive too.
    """

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass  # exists, owned by someone else: cannot be ours, but do not guess

    threading.Thread(target=watch, name="exit-when-app-gone", daemon=True).start()
