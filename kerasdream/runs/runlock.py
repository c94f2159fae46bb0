"""One run per output folder: a lock file naming its owner, and per-run temporaries.

A run holds an exclusive `flock` on `<folder>/.kerasdream.lock` while it
writes, and the file records its host, pid, start time and command. A second
run on the same folder refuses with a message naming the first. The kernel
drops the lock when its process dies (kill -9 included), so a lock file left
by a dead run is stale by construction: the next run takes it over and says so.

Temporary files carry their writer's pid (`.tmp-<pid>-...`), so a run
deletes only the temporaries of processes that no longer exist, never a live
run's (a cluster's workers write into the driver's folder under its lock).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

from kerasdream.errors import DreamError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = ".kerasdream.lock"
TEMPORARY_PREFIX = ".tmp-"
_TEMPORARY_PATTERN = re.compile(r"^\.tmp-(\d+)-")
# The locks this thread lends to what it calls (`RunLock.lent`), by folder.
_LENT = threading.local()


class FolderInUse(DreamError):
    """Another live run holds the output folder's lock."""


def temporary_prefix() -> str:
    """The prefix of this process' temporary files: `.tmp-<pid>-`."""
    return f"{TEMPORARY_PREFIX}{os.getpid()}-"


def process_alive(pid: int) -> bool:
    """True if a process `pid` runs on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    return True


def remove_dead_temporaries(folder: str) -> list[str]:
    """Delete the temporaries of dead processes under `folder`; return their paths.

    Temporaries without a pid (written by kerasdream before 0.2) are removed too.
    """
    removed = []
    for root, _, names in os.walk(folder):
        for name in names:
            if not name.startswith(TEMPORARY_PREFIX):
                continue
            match = _TEMPORARY_PATTERN.match(name)
            if match and process_alive(int(match.group(1))):
                continue
            path = os.path.join(root, name)
            try:
                os.remove(path)
            except FileNotFoundError:
                continue
            removed.append(path)
    return removed


def _describe(owner: dict[str, Any]) -> str:
    command = owner.get("command")
    text = (f"pid {owner.get('pid')} on host {owner.get('host')!r}, "
            f"started {owner.get('started')}")
    return text + (f" ({command})" if command else "")


class RunLock:
    """`with RunLock(folder, command=...)`: hold `folder`'s lock for the block.

    The lock is an exclusive `flock` on `<folder>/.kerasdream.lock`, which the
    kernel releases when its process dies, however it dies; the file's text
    names the holder for the message a second run prints. Raises
    `FolderInUse` naming the owner if another live run holds it.
    """

    def __init__(self, folder: str, command: str | None = None, option: str = "out"):
        self.folder = folder
        self.option = option  # the option that named the folder, for the message
        self.path = os.path.join(folder, LOCK_NAME)
        self.command = command if command is not None else " ".join(
            [os.path.basename(sys.argv[0] or "python")] + sys.argv[1:])
        self.previous_owner: dict[str, Any] | None = None
        self._file = None
        self._joined: RunLock | None = None

    @property
    def held(self) -> bool:
        return self._file is not None or self._joined is not None

    @contextlib.contextmanager
    def lent(self) -> Iterator["RunLock"]:
        """Within the block, a `RunLock` on this folder taken by this thread
        joins this one instead of refusing: a command holds its folder across
        steps that each take the lock (a gallery, then its examples and site).
        Outside it, a second lock on the folder is refused as ever."""
        lent = dict(getattr(_LENT, "locks", {}))
        _LENT.locks = {**lent, os.path.realpath(self.folder): self}
        try:
            yield self
        finally:
            _LENT.locks = lent

    def owner(self) -> dict[str, Any] | None:
        """The lock file's record, {} if it is unreadable, None if there is none."""
        try:
            with open(self.path, encoding="utf-8") as file:
                record = json.loads(file.read() or "{}")
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _record(self) -> dict[str, Any]:
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": self.command,
        }

    def acquire(self) -> "RunLock":
        if fcntl is None:  # pragma: no cover - Windows: no advisory locks
            return self
        os.makedirs(self.folder, exist_ok=True)
        holder = getattr(_LENT, "locks", {}).get(os.path.realpath(self.folder))
        if holder is not None and holder.held:
            self._joined, self.previous_owner = holder, holder.previous_owner
            return self
        while True:
            file = open(self.path, "a+", encoding="utf-8")
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                file.close()
                owner = self.owner() or {}
                raise FolderInUse(
                    f"Another kerasdream run is writing to this folder: {_describe(owner)}. "
                    f"Wait for it to finish or choose another "
                    f"{'output' if self.option == 'out' else 'models'} folder. "
                    f"Received: {self.option}={self.folder!r}") from None
            try:
                same_file = os.stat(self.path).st_ino == os.fstat(file.fileno()).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:
                break
            file.close()  # the holder removed it while we opened it: take the new one
        file.seek(0)
        text = file.read()
        try:
            self.previous_owner = json.loads(text) if text.strip() else None
        except ValueError:
            self.previous_owner = {}
        file.seek(0)
        file.truncate()
        json.dump(self._record(), file)
        file.flush()
        self._file = file
        return self

    def release(self) -> None:
        """Remove the lock file and let go of the lock, if this run holds it
        (a lock that joined a lent one leaves it to its holder)."""
        if self._joined is not None:
            self._joined = None
            return
        if self._file is None:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        self._file.close()
        self._file = None

    def stale_message(self) -> str | None:
        """'Cleared a stale lock ...' when a dead run's lock was taken over, else None."""
        if not self.previous_owner:
            return None
        return f"Cleared a stale lock left by a run that is no longer running: " \
               f"{_describe(self.previous_owner)}."

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()
