"""The SQLite journal's fsync, in a helper process of its own.

With `synchronous=FULL`, SQLite fsyncs the WAL inside every COMMIT, so the COMMIT has to leave
the event loop for a thread, and that thread needs the GIL twice per commit: to start the COMMIT
and to return from it. Under load the loop's thread holds the GIL nearly all the time, and the
committer waits for it far longer than for the disk (`bench/RESULTS.md`, "the committer's wait
for the GIL": a commit's round trip p50 2.46 ms, of which the disk 0.5 ms).

So on Linux the journal's writer commits with `synchronous=NORMAL` on the event loop itself, which
writes the WAL's frames without syncing them (tens of microseconds), and asks this helper to
`fdatasync` the WAL; a batch's writers are answered only once a sync that began after their
COMMIT has returned. The helper is a small process of its own with no GIL to share: the loop
writes a byte to its pipe, it syncs and writes a byte back, and the loop's reader sees it.

Why that is as durable as `synchronous=FULL` (https://www.sqlite.org/pragma.html#pragma_synchronous,
https://www.sqlite.org/wal.html): in WAL mode with NORMAL, "the WAL file is synchronized before
each checkpoint and the database file is synchronized after each completed checkpoint and the
WAL file header is synchronized when a WAL file begins to be reused after a checkpoint, but no
sync operations occur during most transactions". The one sync NORMAL leaves out, the WAL's at
each COMMIT, is the one this helper does before anyone is answered. A crash of tradehook
itself loses nothing either way (the frames are in the kernel's cache); a crash of the machine
loses only frames that no one was answered for, as with FULL while its fsync runs. The helper
syncs the file at the WAL's path, reopened whenever the file there is a new one (the WAL is
removed when the journal's last connection closes), and syncs the directory once for each file
it opens, so that a new WAL's name is durable too.

A helper that goes away before it answers (killed) leaves its batch committed and maybe not
synced; the loop then syncs the WAL itself, once (`WalSyncer.sync_here`), and a new helper
starts for the next batch. A sync that failed is not tried again: after a failed fsync the
kernel may have dropped the pages it could not write, and a second one can succeed with the
data lost, so that batch's writers are told it failed.

`os.fdatasync` is POSIX but not macOS's nor Windows's; where it is missing, or the helper cannot
start, the journal keeps `synchronous=FULL` and its committer's thread.

The helper itself is `webhook.journal.wal_sync_helper`, run as a script.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import select
import subprocess
import sys
from collections import deque
from pathlib import Path

from webhook.journal.wal_sync_helper import ASK, FAILED, SYNCED

logger = logging.getLogger("tradehook.journal")
AVAILABLE = hasattr(os, "fdatasync") and sys.platform.startswith("linux")
"""Whether this platform syncs through the helper (else the journal keeps synchronous=FULL)."""
HELPER = str(Path(__file__).with_name("wal_sync_helper.py"))
START_SECONDS = 10.0
"""How long the helper may take to start and answer its first sync."""


def sync_file(path: Path) -> None:
    """fdatasync the file at `path` in this process, blocking; fsync where the platform has no
    fdatasync (Windows, whose flush needs a handle open for writing). OSError when it fails."""
    if hasattr(os, "fdatasync"):
        fd = os.open(path, os.O_RDONLY)
        sync = os.fdatasync
    else:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
        sync = os.fsync
    try:
        sync(fd)
    finally:
        os.close(fd)


class SyncFailed(OSError):
    """The WAL could not be synced, or the helper is gone."""


class HelperGone(SyncFailed):
    """The helper ended (killed, or its pipe closed) before it answered: the WAL may not have
    been synced, but nothing says it could not be (`WalSyncer.sync_here`)."""


class HelperUnavailable(HelperGone):
    """The helper cannot be started (or cannot sync even once): the journal fsyncs inside its
    commits instead."""


class WalSyncer:
    """The event loop's side: `sync()` asks the helper for one fdatasync of the WAL and gives
    the future its answer settles. The helper answers in the order it was asked; the journal's
    flusher waits for each sync before its next batch, so writes queued meanwhile share it."""

    def __init__(self, wal: Path) -> None:
        self._wal = wal
        self._helper: subprocess.Popen[bytes] | None = None
        self._waiting: deque[asyncio.Future[None]] = deque()
        """One future per sync asked for and not yet answered, oldest first."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self.syncs = 0
        """Syncs answered so far (for tests and diagnostics)."""

    @property
    def wal(self) -> Path:
        """The WAL this syncs."""
        return self._wal

    @property
    def pid(self) -> int | None:
        return None if self._helper is None else self._helper.pid

    def start(self) -> None:
        """Start the helper and see it sync once; HelperUnavailable when it cannot (it is then
        ended). Blocks for the helper's start, a few tens of milliseconds."""
        if not sys.executable:  # an embedded interpreter: nothing to start the helper with
            raise HelperUnavailable(
                "no Python interpreter to start the journal's sync helper with")
        try:
            helper = subprocess.Popen(  # noqa: S603 - our own interpreter and file
                [sys.executable, "-I", "-S", HELPER, str(self._wal)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            raise HelperUnavailable(f"cannot start the journal's sync helper: {exc}") from exc
        try:
            _first_sync(helper)
        except SyncFailed as exc:
            _end(helper)
            raise HelperUnavailable(*exc.args) from exc
        assert helper.stdout is not None  # noqa: S101 - checked by _first_sync
        os.set_blocking(helper.stdout.fileno(), False)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(helper.stdout.fileno(), self._answered)
        self._helper = helper

    async def stop(self) -> None:
        helper = self._let_go(SyncFailed("the journal is closing"))
        if helper is not None:
            await asyncio.to_thread(_end, helper)

    def sync(self) -> asyncio.Future[None]:
        """A future that is done once an fdatasync of the WAL that began after this call has
        returned; it fails with SyncFailed when the sync failed, HelperGone when the helper
        went away first (a new helper starts for the next). HelperUnavailable, raised here,
        when no new helper starts."""
        if self._helper is None or self._helper.poll() is not None:
            self._restart()
        helper, loop = self._helper, self._loop
        if helper is None or helper.stdin is None or loop is None:
            raise SyncFailed("the journal's sync helper is not running")
        waiting = loop.create_future()
        self._waiting.append(waiting)
        try:
            os.write(helper.stdin.fileno(), ASK)
        except OSError as exc:
            self._ended(HelperGone(f"the journal's sync helper is gone: {exc}"))
        return waiting

    def sync_here(self) -> None:
        """fdatasync the WAL in this process, blocking: for a batch whose helper went away
        before it answered. OSError when it fails."""
        sync_file(self._wal)

    def _restart(self) -> None:
        self._ended(HelperGone("the journal's sync helper is gone"))
        logger.warning("starting the journal's sync helper again")
        self.start()

    def _answered(self) -> None:
        helper = self._helper
        if helper is None or helper.stdout is None:
            return
        try:
            answer = os.read(helper.stdout.fileno(), 2)
        except BlockingIOError:
            return
        except OSError:
            answer = b""
        if not answer:
            self._ended(HelperGone("the journal's sync helper ended"))
            return
        if not self._waiting:
            return
        waiting = self._waiting.popleft()
        self.syncs += 1
        if waiting.done():  # its caller gave up waiting
            return
        if (failure := _failure(answer)) is None:
            waiting.set_result(None)
        else:
            waiting.set_exception(failure)

    def _ended(self, failure: SyncFailed) -> None:
        helper = self._let_go(failure)
        if helper is not None:
            _end(helper)

    def _let_go(self, failure: SyncFailed) -> subprocess.Popen[bytes] | None:
        """Stop watching the helper and fail every sync still waiting on it; the helper, to
        be ended by the caller."""
        helper, self._helper = self._helper, None
        if helper is not None and helper.stdout is not None and self._loop is not None:
            self._loop.remove_reader(helper.stdout.fileno())
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_exception(failure)
        return helper


def _first_sync(helper: subprocess.Popen[bytes]) -> None:
    """One sync, waited for here: the helper runs and can sync the WAL."""
    if helper.stdin is None or helper.stdout is None:
        raise SyncFailed("the journal's sync helper has no pipes")
    try:
        os.write(helper.stdin.fileno(), ASK)
        ready, _, _ = select.select([helper.stdout], [], [], START_SECONDS)
        answer = os.read(helper.stdout.fileno(), 2) if ready else b""
    except OSError as exc:
        raise SyncFailed(f"cannot start the journal's sync helper: {exc}") from exc
    if answer[:1] in (SYNCED, FAILED):
        if (failure := _failure(answer)) is not None:
            raise failure
        return
    raise SyncFailed("the journal's sync helper did not start" if not ready
                     else "the journal's sync helper ended at once")


def _failure(answer: bytes) -> SyncFailed | None:
    """What one of the helper's answers says: None for `SYNCED`, else the sync's error (the
    errno byte after `FAILED`)."""
    if answer[:1] == SYNCED:
        return None
    code = answer[1] if len(answer) > 1 else errno.EIO
    return SyncFailed(code, f"cannot sync the journal's WAL: {os.strerror(code)}")


def _end(helper: subprocess.Popen[bytes]) -> None:
    """Close the helper's pipes (it ends at the end of its input) and reap it."""
    for pipe in (helper.stdin, helper.stdout):
        if pipe is not None:
            pipe.close()
    try:
        helper.wait(timeout=5)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()
