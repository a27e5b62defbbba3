"""One training run writes a work dir at a time.

Two runs on one work dir would interleave their checkpoints (``epoch_N.pth``,
``last_checkpoint``) and overwrite each other's config dump, both ending
with exit status 0. :func:`work_dir_writer` holds a marker file,
``<work_dir>/.mmrm_writer.json`` (pid, host, start time, command), for the
duration of a run; a second run that finds the marker of a live process
stops with :class:`WorkDirBusyError` naming it. A marker left by a run that
was killed (its process is gone, or its pid now belongs to another process)
is replaced, with a note. The process start time (Linux ``/proc``) tells a
live run from a reused pid. A marker written on another host cannot be
checked from here: it blocks, and the message says how to remove it.

In a distributed run only global rank 0 holds the marker (all ranks of one
run share the work dir). mmengine offers no such guard (its Runner writes
into any existing work dir).
"""
import contextlib
import datetime
import json
import os
import os.path as osp
import socket
import sys
import tempfile
from typing import Optional

MARKER = '.mmrm_writer.json'


class WorkDirBusyError(RuntimeError):
    """Another live run is writing the work dir."""


def _process_start(pid: int) -> Optional[str]:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None
    where ``/proc`` does not tell."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            # field 22; the command name (field 2) may hold spaces
            return f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _is_live(record: dict) -> bool:
    """Whether the run that wrote ``record`` may still be running."""
    if record.get('host') != socket.gethostname():
        return True  # another machine: cannot be checked from here
    pid = record.get('pid')
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    start = _process_start(pid)
    return start is None or record.get('process_start') in (None, start)


def _read(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: treated as stale
    return record if isinstance(record, dict) else {}


def _global_rank() -> int:
    for var in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(var, '').isdigit():
            return int(os.environ[var])
    return 0


def describe(record: dict) -> str:
    """``pid N on host H, started T (command)`` of a marker."""
    text = (f"pid {record.get('pid', '?')} on host {record.get('host', '?')}"
            f", started {record.get('started', '?')}")
    return text + (f" (`{record['command']}`)" if record.get('command') else
                   '')


def _claim(path: str, record: dict) -> bool:
    """Create the marker atomically with its content; False if one exists."""
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), prefix=MARKER)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(record, f)
        os.link(tmp, path)  # fails if the marker exists: no half-written one
        return True
    except FileExistsError:
        return False
    finally:
        os.remove(tmp)


@contextlib.contextmanager
def work_dir_writer(work_dir: str, command: str = ''):
    """Hold the work dir's marker while the block runs (rank 0 only).

    Raises:
        WorkDirBusyError: a live run holds the marker (message: its pid,
            host, start time and command, and what to do).
    """
    if _global_rank() != 0:
        yield
        return
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, MARKER)
    pid = os.getpid()
    record = dict(pid=pid, host=socket.gethostname(),
                  started=datetime.datetime.now().isoformat(timespec='seconds'),
                  process_start=_process_start(pid), command=command)
    while not _claim(path, record):
        other = _read(path)
        if other is None:
            continue  # removed in between: try again
        if _is_live(other):
            raise WorkDirBusyError(
                f'work dir {work_dir} is being written by another run: '
                f'{describe(other)}. Wait for it, stop it, or train into '
                f'another --work-dir (if that run is gone, delete {path}).')
        if _read(path) == other:  # still the stale one
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            print(f'[mmrm] {path}: replaced the marker of a run that is no '
                  f'longer running ({describe(other)})', file=sys.stderr)
    try:
        yield
    finally:
        if (_read(path) or {}).get('pid') == pid:
            os.remove(path)
