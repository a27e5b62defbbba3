"""Ctrl-C during :func:`mmrm.apis.train`: stop at the next iteration
boundary, then say how to resume.

A ``KeyboardInterrupt`` raised wherever Python happens to be can land inside
library code that turns it into another error: mmengine formats the config
with a bare ``except`` when it saves a checkpoint, so a Ctrl-C there ends in
a ``SyntaxError`` holding the whole config. So the first Ctrl-C only records
the request; :class:`StopAtIterationBoundary` raises ``KeyboardInterrupt``
before the next training / validation iteration or epoch (after a
checkpoint being written is complete). A second Ctrl-C stops at once.
"""
import contextlib
import signal
import threading

from mmengine.hooks import Hook


class StopAtIterationBoundary(Hook):
    """Raises ``KeyboardInterrupt`` at the first hook call after
    :meth:`request`."""

    priority = 'HIGHEST'

    def __init__(self):
        self.requested = False

    def request(self, signum=None, frame=None) -> None:
        """The SIGINT handler: the first call asks for a stop, the second
        stops at once."""
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def _check(self, *args, **kwargs) -> None:
        if self.requested:
            raise KeyboardInterrupt

    before_train_epoch = before_train_iter = after_train_iter = _check
    before_val_epoch = before_val_iter = _check


@contextlib.contextmanager
def stop_at_iteration_boundary(runner):
    """Within the block, the first Ctrl-C stops ``runner`` at its next
    iteration boundary (main thread only; elsewhere Python's own handling
    stays)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopper = StopAtIterationBoundary()
    runner.register_hook(stopper)
    previous = signal.signal(signal.SIGINT, stopper.request)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
