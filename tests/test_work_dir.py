"""One writer per work dir, and Ctrl-C, with real tools/train.py processes
on tiny Fashion-MNIST data (mmrm/apis/work_dir_lock.py, mmrm/apis/runner.py).
"""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RM = 'configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py'


def train_argv(work, data_root, epochs):
    return ['tools/train.py', RM, '--work-dir', str(work), '--cfg-options',
            f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            'train_dataloader.dataset.indices=32',
            'train_dataloader.batch_size=16',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=1000',
            'param_scheduler=[]', 'log_level=WARNING']


def start(argv):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    return subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(path, proc, timeout=180):
    end = time.time() + timeout
    while not osp.exists(path):
        if proc.poll() is not None:
            raise AssertionError(f'the run ended early: {proc.stderr.read()}')
        if time.time() > end:
            raise AssertionError(f'{path} did not appear')
        time.sleep(0.2)


def test_second_run_on_a_live_work_dir_stops_and_a_killed_runs_marker_does_not(
        tmp_path, fmnist_small, capfd):
    work = tmp_path / 'work'
    marker = work / '.mmrm_writer.json'
    first = start(train_argv(work, fmnist_small, epochs=10000))
    try:
        wait_for(marker, first)
        record = json.loads(marker.read_text())
        assert record['pid'] == first.pid
        second = subprocess.run(
            [sys.executable, *train_argv(work, fmnist_small, epochs=1)],
            cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
            capture_output=True, text=True, timeout=300)
        assert second.returncode != 0
        assert (f'WorkDirBusyError: work dir {work} is being written by '
                f'another run: pid {first.pid} on host {record["host"]}, '
                f'started {record["started"]}') in second.stderr
        assert first.poll() is None  # the first run goes on
    finally:
        first.kill()  # SIGKILL: no clean-up, the marker stays
        first.communicate()
    assert json.loads(marker.read_text())['pid'] == first.pid
    # the next run (here: the guard mmrm.apis.train holds, in this process)
    from mmrm.apis.work_dir_lock import work_dir_writer
    with work_dir_writer(str(work), 'next run'):
        assert json.loads(marker.read_text())['pid'] == os.getpid()
    assert (f'replaced the marker of a run that is no longer running (pid '
            f'{first.pid}') in capfd.readouterr().err
    assert not marker.exists()  # released at the end of the run


def test_marker_of_a_reused_pid_is_stale():
    """A pid that now belongs to another process (its kernel start time
    differs from the recorded one) does not hold the work dir."""
    import socket

    from mmrm.apis import work_dir_lock
    me = dict(pid=os.getpid(), host=socket.gethostname(),
              process_start=work_dir_lock._process_start(os.getpid()))
    assert work_dir_lock._is_live(me)
    assert not work_dir_lock._is_live(dict(me, process_start='1'))
    assert work_dir_lock._is_live(dict(me, host='another-host'))


def test_ctrl_c_prints_the_resume_command_and_its_checkpoint(
        tmp_path, fmnist_small):
    work = tmp_path / 'work'
    argv = train_argv(work, fmnist_small, epochs=10000)
    proc = start(argv)
    wait_for(work / 'last_checkpoint', proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert 'Traceback' not in err and 'KeyboardInterrupt' not in err, err
    ckpt = (work / 'last_checkpoint').read_text().strip()
    assert osp.basename(ckpt).startswith('epoch_')
    import shlex
    command = shlex.join(['python', 'tools/train.py', *argv[1:]])
    assert err.strip().splitlines()[-1] == (
        f'[mmrm] interrupted: `{command} --resume` continues from {ckpt}')
    assert not (work / '.mmrm_writer.json').exists()


def test_first_ctrl_c_waits_for_the_iteration_boundary_second_stops_at_once():
    """mmengine turns a KeyboardInterrupt inside its config formatting (run
    at every checkpoint save) into a SyntaxError: the first Ctrl-C only asks
    for a stop, which the hook raises at the next iteration boundary."""
    from mmrm.apis.interrupt import StopAtIterationBoundary
    stopper = StopAtIterationBoundary()
    stopper.before_train_iter(None, 0)  # nothing asked: no stop
    stopper.request()
    with pytest.raises(KeyboardInterrupt):
        stopper.after_train_iter(None, 0)
    with pytest.raises(KeyboardInterrupt):
        stopper.request()  # the second Ctrl-C
