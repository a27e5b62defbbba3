import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    """``__version__`` of mmrm/version.py, the one place it is written."""
    scope = {}
    with open(osp.join(HERE, 'mmrm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def parse_requirements(name: str) -> list:
    """The requirement lines of ``requirements/<name>`` (OpenMMLab's
    layout), comments dropped."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.partition('#')[0].strip() for line in f)
        return [line for line in lines if line]


setup(
    name='mmrm',
    version=read_version(),
    description='RecursiveMix (NeurIPS 2022) for OpenMMLab: pretrain, convert, '
    'fine-tune',
    packages=find_packages(include=['mmrm', 'mmrm.*']),
    python_requires='>=3.9',
    # ranges that both supported stacks satisfy; torch, torchvision and mmcv
    # (built for the machine's CUDA) are extras, as in OpenMMLab's packages,
    # so pip never replaces them: docs/install.md
    install_requires=parse_requirements('runtime.txt'),
    extras_require=dict(
        torch=parse_requirements('torch.txt'),
        mim=parse_requirements('mminstall.txt'),
        tests=parse_requirements('tests.txt'),
        analysis=parse_requirements('optional.txt')),
)
