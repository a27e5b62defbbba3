"""The transfer driver's worker pool (``benchmarks.transfer.pool``): a
SIGTERM to the driver alone stops its workers too; a failing job lets the
others finish. Real processes (a driver script and its spawned workers)
with sleeping jobs, no training."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

DRIVER = '''
import os, sys, time
from benchmarks.transfer.pool import run_in_pool


def job(kind, out):
    if kind == 'fail':
        time.sleep(0.5)
        raise ValueError('planted job failure')
    with open(os.path.join(out, kind + '.pid'), 'w') as f:
        f.write(str(os.getpid()))
    time.sleep(float(kind.split('-')[1]))
    open(os.path.join(out, kind + '.done'), 'w').close()
    return kind


if __name__ == '__main__':
    out, kinds = sys.argv[1], sys.argv[2:]
    run_in_pool(job, [(k, out) for k in kinds], 2,
                lambda call, result: print('finished', result, flush=True),
                name=lambda call: call[0])
'''


def _start(tmp_path, *kinds):
    script = tmp_path / 'driver.py'
    script.write_text(DRIVER)
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), *kinds], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def _wait_for(paths, seconds=120):
    deadline = time.monotonic() + seconds
    while not all(osp.exists(p) for p in paths):
        assert time.monotonic() < deadline, f'never appeared: {paths}'
        time.sleep(0.2)


def _sigterm_when_running(tmp_path, driver, running, settle=0.0):
    """SIGTERM to the driver alone once the jobs ``running`` have started
    (and ``settle`` seconds more); its output and those jobs' worker pids,
    waited for until they are gone or 10 s have passed."""
    try:
        pid_files = [tmp_path / f'{kind}.pid' for kind in running]
        _wait_for(pid_files)
        workers = [int(p.read_text()) for p in pid_files]
        assert all(_alive(pid) for pid in workers)
        time.sleep(settle)
        driver.send_signal(signal.SIGTERM)  # the driver only, not its group
        out, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
        else:  # the workers, should a planted bug have left them running
            for p in tmp_path.glob('*.pid'):
                if _alive(int(p.read_text())):
                    os.kill(int(p.read_text()), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    return out, err, workers


def test_sigterm_to_the_driver_terminates_its_workers_and_names_the_unfinished_jobs(tmp_path):  # noqa: E501
    driver = _start(tmp_path, 'a-300', 'b-300', 'c-300')
    out, err, workers = _sigterm_when_running(tmp_path, driver,
                                              ['a-300', 'b-300'])
    assert driver.returncode != 0
    assert 'KeyboardInterrupt' in err
    assert not any(_alive(pid) for pid in workers), (
        'workers kept running after the driver stopped')
    assert 'stopped (signal SIGTERM): 2 workers terminated' in out
    assert 'unfinished, not recorded: a-300, b-300, c-300' in out
    assert not list(tmp_path.glob('*.done'))


def test_a_failing_job_raises_after_the_running_ones_finish(tmp_path):
    driver = _start(tmp_path, 'fail', 'quick-3')
    out, err = driver.communicate(timeout=180)
    assert driver.returncode != 0
    assert 'planted job failure' in err
    # the running job was not killed by the failure: its work finished
    assert (tmp_path / 'quick-3.done').exists()


def test_sigterm_while_waiting_after_a_failed_job_still_stops_the_workers(
        tmp_path):
    driver = _start(tmp_path, 'fail', 'long-300')
    # the failure comes 0.5 s in; then the driver waits for long-300
    out, err, workers = _sigterm_when_running(tmp_path, driver,
                                              ['long-300'], settle=3.0)
    assert 'planted job failure' in err  # the job's error, not the signal
    assert not any(_alive(pid) for pid in workers), (
        'the running job kept going after the driver stopped')
    assert 'unfinished, not recorded: long-300' in out
