import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    """``__version__`` of mmrm/version.py, the one place it is written."""
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmrm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmrm',
    version=read_version(),
    description='RecursiveMix (NeurIPS 2022) for OpenMMLab: pretrain, convert, '
    'fine-tune',
    packages=find_packages(include=['mmrm', 'mmrm.*']),
    python_requires='>=3.9',
    # what mmrm imports; the versions that fit together are pinned by
    # scripts/setup_env.sh (mmcv is compiled there, with its ops)
    install_requires=[
        'torch', 'torchvision', 'numpy', 'pyyaml', 'mmengine>=0.10.0',
        'mmcv>=2.0.0,<2.2.0', 'mmpretrain>=1.2.0', 'mmdet>=3.3.0',
        'mmsegmentation>=1.2.0'
    ],
    extras_require=dict(analysis=['matplotlib', 'grad-cam']),
)
