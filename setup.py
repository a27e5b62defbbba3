from setuptools import find_packages, setup

setup(
    name='mmrm',
    version='0.1.0',
    description='RecursiveMix (NeurIPS 2022) for OpenMMLab: pretrain, convert, fine-tune',
    packages=find_packages(include=['mmrm', 'mmrm.*']),
    python_requires='>=3.9',
    install_requires=['mmpretrain>=1.2.0', 'mmengine>=0.10.0'],
)
