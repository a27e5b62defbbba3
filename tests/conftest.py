import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import mmrm  # noqa: E402,F401  registers the RM components

import struct  # noqa: E402

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FMNIST = os.path.join(ROOT, 'data', 'fashion_mnist')


def _write_idx_subset(src, dst, count):
    """Copy the first ``count`` items of an idx file (images or labels)."""
    with open(src, 'rb') as f:
        magic, n = struct.unpack('>II', f.read(8))
        ndim = magic & 0xFF
        dims = struct.unpack('>' + 'I' * (ndim - 1), f.read(4 * (ndim - 1)))
        item = 1
        for d in dims:
            item *= d
        data = f.read(item * min(count, n))
    with open(dst, 'wb') as f:
        f.write(struct.pack('>II', magic, min(count, n)))
        f.write(struct.pack('>' + 'I' * len(dims), *dims))
        f.write(data)


@pytest.fixture(scope='session')
def fmnist_small(tmp_path_factory):
    """The first 256 train / 128 test images of the real Fashion-MNIST."""
    names = {'train-images-idx3-ubyte': 256, 'train-labels-idx1-ubyte': 256,
             't10k-images-idx3-ubyte': 128, 't10k-labels-idx1-ubyte': 128}
    if not all(os.path.exists(os.path.join(FMNIST, n)) for n in names):
        pytest.fail(f'Fashion-MNIST missing under {FMNIST}: run '
                    'tools/dataset_converters/prepare_fashion_mnist.sh (make test does)')
    out = tmp_path_factory.mktemp('fashion_mnist')
    for name, count in names.items():
        _write_idx_subset(os.path.join(FMNIST, name), out / name, count)
    return str(out)


@pytest.fixture(autouse=True)
def _mmpretrain_default_scope():
    """Each test starts in mmpretrain's registry scope: a Runner of an mmdet or
    mmseg config earlier in the same worker leaves its scope as the current
    default, which would send MODELS.build of a classifier to mmseg's registry.
    Likewise a fresh message hub: a Runner stopped by an error inside its
    training loop leaves ``loop_stage='train'`` in its hub, which would make
    the RM preprocessor of a later test look for RecursiveMixHistoryHook."""
    import uuid

    from mmengine.logging import MessageHub
    from mmengine.registry import DefaultScope
    name = f'mmrm-test-{uuid.uuid4().hex}'
    DefaultScope.get_instance(name, scope_name='mmpretrain')
    MessageHub.get_instance(name)
    yield
