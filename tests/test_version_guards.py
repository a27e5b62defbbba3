"""The code paths that differ between the stacks' torch versions, run on
whichever torch is installed: the weights-only loading that torch < 2.4
gets (no allow-list API there), and the CPU GradScaler stand-in of the
tests for torch < 2.3 against torch's own where it exists."""
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from helpers import CpuGradScaler
from mmrm.convert import loading
from mmrm.convert.errors import UnsafeCheckpointError


def mmengine_like_checkpoint(path):
    """What mmengine's CheckpointHook writes besides tensors: a message hub
    with HistoryBuffers (numpy arrays) and numpy scalars."""
    buf = HistoryBuffer()
    for v in (0.5, 0.25, 0.125):
        buf.update(v)
    torch.save(dict(
        state_dict=OrderedDict(w=torch.arange(4.0)),
        meta=dict(epoch=2, seed=0),
        message_hub=dict(log_scalars={'train/loss': buf},
                         runtime_info=dict(iter=np.int64(7),
                                           lr=np.float32(0.1)))), path)
    return buf


class _RunsCode:
    """Unpickling it would run ``touch <marker>``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture(params=['torch', 'allow-list unpickler'])
def loader_path(request, monkeypatch):
    """Both weights-only paths on this torch: torch's allow-list (torch >=
    2.4) and the restricted unpickler torch < 2.4 gets."""
    if request.param == 'torch' and not loading.HAS_SAFE_GLOBALS:
        pytest.skip(f'torch {torch.__version__} has no allow-list API '
                    '(the other path is the one it uses)')
    if request.param != 'torch':
        monkeypatch.setattr(loading, 'HAS_SAFE_GLOBALS', False)
    return request.param


def test_mmengine_checkpoint_loads_weights_only(tmp_path, loader_path):
    path = str(tmp_path / 'epoch_2.pth')
    buf = mmengine_like_checkpoint(path)
    ckpt = loading.load_checkpoint_file(path)
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.0))
    got = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(got, HistoryBuffer)
    assert got.mean() == pytest.approx(buf.mean())
    assert got.current() == 0.125
    assert ckpt['message_hub']['runtime_info']['iter'] == 7


def test_checkpoint_written_with_the_other_numpy_major_loads(tmp_path,
                                                              loader_path):
    """numpy 2 pickles arrays as numpy._core.multiarray._reconstruct,
    numpy 1 as numpy.core...: the same checkpoint with the other name (as
    the other stack writes it) loads weights-only."""
    path = str(tmp_path / 'epoch_2.pth')
    buf = mmengine_like_checkpoint(path)
    ours, other = b'numpy.core.multiarray', b'numpy._core.multiarray'
    if int(np.__version__.split('.')[0]) >= 2:
        ours, other = other, ours
    moved = str(tmp_path / 'other_numpy.pth')
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(moved, 'w') as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith('data.pkl'):
                assert ours in data
                data = data.replace(ours, other)
            dst.writestr(name, data)
    got = loading.load_checkpoint_file(moved)['message_hub']['log_scalars']
    assert got['train/loss'].mean() == pytest.approx(buf.mean())


def test_code_in_a_checkpoint_is_refused_and_never_run(tmp_path,
                                                       loader_path):
    marker = tmp_path / 'ran'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.ones(1)},
                'x': _RunsCode(marker)}, path)
    with pytest.raises(UnsafeCheckpointError, match='system'):
        loading.load_checkpoint_file(path)
    assert not marker.exists()
    # trusted=True unpickles fully: the code runs (what the flag means)
    loading.load_checkpoint_file(path, trusted=True)
    assert marker.exists()


def test_allow_mmengine_checkpoints_matches_this_torchs_api():
    loading.allow_mmengine_checkpoints()  # no AttributeError on any torch
    if loading.HAS_SAFE_GLOBALS:
        assert HistoryBuffer in torch.serialization.get_safe_globals()
        torch.serialization.clear_safe_globals()


def _scaler_trace(scaler, grads):
    """Scale, step and update once per gradient value; the scale after
    each step and whether the parameter moved."""
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([p], lr=0.1)
    trace = []
    for g in grads:
        opt.zero_grad()
        before = p.detach().clone()
        scaler.scale((p * g).sum()).backward()
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), not torch.equal(before, p)))
    return trace, p.detach()


@pytest.mark.skipif(not hasattr(torch.amp, 'GradScaler'),
                    reason=f'torch {torch.__version__} has no CPU '
                    'GradScaler to compare the stand-in with')
def test_cpu_grad_scaler_stand_in_matches_torchs():
    grads = [1.0, float('inf'), 2.0, float('nan'), 1.0, 1.0, 3.0]
    kw = dict(init_scale=8.0, growth_interval=2)
    want, p_want = _scaler_trace(torch.amp.GradScaler('cpu', **kw), grads)
    got, p_got = _scaler_trace(CpuGradScaler(**kw), grads)
    assert got == want
    assert torch.allclose(p_got, p_want)
    assert [moved for _, moved in got] == [True, False, True, False, True,
                                           True, True]
