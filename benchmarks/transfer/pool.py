"""Jobs run a few at a time in spawned worker processes, stopped together.

``concurrent.futures`` runs the jobs; what this adds is the stop: a
``SIGTERM`` (``kill``, ``pkill -f benchmarks.transfer.run``, a scheduler's
time limit) or Ctrl-C reaching only the driver would otherwise leave its
workers computing, unseen, for the rest of their cells. Here either signal
terminates the workers, says which jobs were unfinished and re-raises
``KeyboardInterrupt``. A job that fails does not stop the others: they
finish (their results are kept on disk) before the error is raised.
"""
import multiprocessing
import signal
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f'signal {signal.Signals(signum).name}')


def run_in_pool(fn, calls, n_jobs: int, on_done, name=str,
                log=print) -> None:
    """Call ``fn(*call)`` for each of ``calls``, ``n_jobs`` at a time in
    spawned processes; ``on_done(call, result)`` in this process as each
    finishes. On SIGTERM or Ctrl-C the workers are terminated and the
    unfinished calls named (``name(call)``) before ``KeyboardInterrupt``
    propagates."""
    before = set(multiprocessing.active_children())
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread \
        else None
    pool = ProcessPoolExecutor(n_jobs, mp_context=get_context('spawn'))
    futures = {}

    def stop(signal_name):
        unfinished = [name(c) for f, c in futures.items() if not f.done()]
        pool.shutdown(wait=False, cancel_futures=True)
        workers = set(multiprocessing.active_children()) - before
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=30)
        log(f'stopped ({signal_name or "Ctrl-C"}): {len(workers)} workers '
            f'terminated; unfinished, not recorded: '
            f'{", ".join(unfinished) or "none"}')

    try:
        futures = {pool.submit(fn, *call): call for call in calls}
        for future in as_completed(futures):
            on_done(futures[future], future.result())
    except KeyboardInterrupt as signalled:
        stop(str(signalled))
        raise
    except BaseException:
        try:
            pool.shutdown()  # a job failed: the running ones finish first
        except KeyboardInterrupt as signalled:  # unless stopped meanwhile
            stop(str(signalled))
        raise
    else:
        pool.shutdown()
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
