"""The processes below a process, from Linux's /proc (empty elsewhere): what a benchmark measures and what
a test checks is gone after its caller died."""

from __future__ import annotations

import os


def descendants(pid: int) -> set[int]:
    """Every live process whose parent chain leads to ``pid`` (children, grandchildren...), not ``pid``."""
    parents: dict[int, set[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return set()
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(parent, set()).add(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found
