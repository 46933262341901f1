"""``repurchase-dbt``: dbt, stopped with the process that started it.

The pipeline runs ``dbt build`` as a child process holding the warehouse's write lock. If the parent (the
CLI, or a Dagster run worker) is killed, even with SIGKILL, an orphaned dbt would keep the lock and every
later run would fail to open the warehouse. On Linux this entry point asks the kernel to send it SIGTERM
when its parent dies (``prctl(PR_SET_PDEATHSIG)``, kept across ``exec``), then replaces itself with the
real ``dbt`` beside this Python. Elsewhere it just runs dbt.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def stop_with_parent() -> bool:
    """Ask the kernel to SIGTERM this process when its parent exits; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return False
    # The parent may have died between fork and prctl: then we were re-parented already.
    expected = os.environ.get("REPURCHASE_DBT_PARENT_PID")
    if expected and os.getppid() != int(expected):
        sys.exit("repurchase-dbt: the process that started dbt is gone; not starting dbt")
    return True


def main() -> None:
    stop_with_parent()
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(str(dbt), [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
