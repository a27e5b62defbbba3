"""The tests' handling of launched multi-process runs (tests/helpers.py):
one retry after a rank dies of a native crash, none after anything else,
and a failure excerpt that keeps the crash when the output is long."""
import sys

import pytest

from helpers import (failure_excerpt, rank_crashed_in_native_code,
                     run_launch, run_launches)

# torchrun's report when a rank dies of SIGABRT (as CI printed it)
ABORT_REPORT = '''Root Cause (first observed failure):
[0]:
  rank      : 1 (local_rank: 1)
  exitcode  : -6 (pid: 11076)  (SIGABRT)
  traceback : Signal 6 (SIGABRT) received by PID 11076
'''
PYTHON_ERROR_REPORT = '''Root Cause (first observed failure):
[0]:
  rank      : 1 (local_rank: 1)
  exitcode  : 1 (pid: 11076)
  traceback : To enable traceback see: https://pytorch.org/docs/errors.html
'''

# a stand-in launch: fails the first time with the given report, then passes
FLAKY = '''import os, sys
marker, report = sys.argv[1], sys.argv[2]
if not os.path.exists(marker):
    open(marker, 'w').close()
    print(report)
    sys.exit(1)
print('PORT', os.environ.get('PORT'))
'''


def test_abort_report_is_a_native_crash_and_a_python_error_is_not():
    assert rank_crashed_in_native_code(ABORT_REPORT)
    assert not rank_crashed_in_native_code(PYTHON_ERROR_REPORT)
    assert not rank_crashed_in_native_code(
        ABORT_REPORT.replace('6 (SIGABRT)', '15 (SIGTERM)'))


def test_launch_retried_once_after_native_crash_on_a_new_port(tmp_path):
    cmd = [sys.executable, '-c', FLAKY, str(tmp_path / 'ran'), ABORT_REPORT]
    with pytest.warns(UserWarning, match='crashed in native code'):
        rc, out = run_launch(cmd, str(tmp_path), {'PORT': '1'}, timeout=60)
    assert rc == 0
    assert 'PORT 1\n' not in out  # the retry rendezvoused on another port


def test_nodes_of_one_run_are_retried_together_on_one_new_port(tmp_path):
    """One node crashes, the other's run passes: both start again (a node
    cannot rendezvous alone), with the same new port."""
    crashing = [sys.executable, '-c', FLAKY, str(tmp_path / 'ran'),
                ABORT_REPORT]
    passing = [sys.executable, '-c', 'import os; print("PORT", '
               'os.environ["PORT"]); print("node 1 ran")']
    with pytest.warns(UserWarning, match='crashed in native code'):
        results = run_launches([crashing, passing], str(tmp_path),
                               [{'PORT': '1'}, {'PORT': '1'}], timeout=60)
    assert [rc for rc, _ in results] == [0, 0]
    ports = [out.split()[1] for _, out in results]
    assert ports[0] == ports[1] != '1'


def test_launch_not_retried_after_a_python_error(tmp_path):
    cmd = [sys.executable, '-c', FLAKY, str(tmp_path / 'ran'),
           PYTHON_ERROR_REPORT]
    rc, out = run_launch(cmd, str(tmp_path), {}, timeout=60)
    assert rc == 1 and 'exitcode  : 1' in out


def test_failure_excerpt_keeps_the_crash_before_a_long_module_list():
    out = ('startup log\n' * 500 + 'Fatal Python error: Aborted\n'
           '  File "gloo_step.py", line 7 in allreduce\n'
           'Extension modules: ' + 'numpy.core, ' * 2000 + '\n'
           + ABORT_REPORT)
    excerpt = failure_excerpt(out)
    assert 'gloo_step.py' in excerpt and 'SIGABRT' in excerpt
    assert 'numpy.core' not in excerpt
    assert len(excerpt) < 9000
