"""The helper process of `webhook.journal.wal_sync`: for each byte on its input, one fdatasync
of the WAL at the path it was given, answered with one byte on its output.

Run as a script (`python -I -S wal_sync_helper.py PATH`); it imports nothing but `os`, `signal`
and `sys`, so that it starts in milliseconds and holds a few megabytes.
"""

import os
import signal
import sys

ASK = b"?"
SYNCED = b"+"
FAILED = b"-"
"""The answers: `SYNCED`, or `FAILED` followed by one byte of the errno."""


def serve(wal: str) -> None:
    """The helper: for each request on stdin, fdatasync the WAL and answer on stdout."""
    # The server's Ctrl-C, or a service manager's SIGTERM to every process of the service, ends
    # the helper through its input, once the server has written what it still had to write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    fd: int | None = None
    inode = 0
    while True:
        asked = os.read(0, 1)  # the journal asks for one sync at a time
        if not asked:
            return
        try:
            here = os.stat(wal).st_ino
            if fd is None or here != inode:
                if fd is not None:
                    os.close(fd)
                fd = os.open(wal, os.O_RDONLY)
                inode = os.fstat(fd).st_ino
                directory = os.open(os.path.dirname(wal) or ".", os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
            os.fdatasync(fd)
        except OSError as exc:
            if fd is not None:
                os.close(fd)
            fd = None
            os.write(1, FAILED + bytes([(exc.errno or 5) % 256]))
            continue
        os.write(1, SYNCED)


if __name__ == "__main__":
    try:
        serve(sys.argv[1])
    except BrokenPipeError:  # the server is gone (killed): nobody to answer
        pass
