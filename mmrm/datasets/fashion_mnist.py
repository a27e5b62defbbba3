"""Fashion-MNIST as mmrm's tools and benchmarks read it outside a Runner.

The files are the ones ``tools/dataset_converters/prepare_fashion_mnist.sh``
lays out (the standard idx names, unpacked) and mmpretrain's ``FashionMNIST``
dataset reads inside a Runner; they are read here with the same mmpretrain
idx readers. The normalisation is the one of the data config
``configs/pretrain/_base_/datasets/fashion_mnist_64px.py`` (read from there,
the one place it is written).
"""
import functools
import os.path as osp
from typing import List, Optional, Tuple

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA_CONFIG = osp.join(REPO, 'configs', 'pretrain', '_base_', 'datasets',
                       'fashion_mnist_64px.py')
SPLITS = {'train': 'train', 'test': 't10k'}


@functools.lru_cache(maxsize=None)
def normalization(config: str = DATA_CONFIG) -> Tuple[List[float], List[float]]:
    """``(mean, std)`` per channel (0-255 scale) of the Fashion-MNIST data
    config's ``data_preprocessor``."""
    from mmengine.config import Config
    pre = Config.fromfile(config).data_preprocessor
    return list(pre.mean), list(pre.std)


def read_fashion_mnist(data_root: str = 'data/fashion_mnist',
                       split: str = 'train',
                       limit: Optional[int] = None
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The raw images and labels of one split.

    Returns:
        ``(images uint8 (M, 28, 28), labels int64 (M,))``, the first
        ``limit`` of them when given.

    Raises:
        ValueError: unknown split. FileNotFoundError: files not prepared.
    """
    from mmpretrain.datasets.mnist import read_image_file, read_label_file
    if split not in SPLITS:
        raise ValueError(f'split must be one of {tuple(SPLITS)}, got {split!r}')
    prefix = SPLITS[split]
    img_path = osp.join(data_root, f'{prefix}-images-idx3-ubyte')
    label_path = osp.join(data_root, f'{prefix}-labels-idx1-ubyte')
    for path in (img_path, label_path):
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path} not found: run '
                'tools/dataset_converters/prepare_fashion_mnist.sh first')
    return read_image_file(img_path)[:limit], read_label_file(label_path)[:limit]


def load_fashion_mnist(data_root: str = 'data/fashion_mnist',
                       size: int = 64,
                       split: str = 'train',
                       limit: Optional[int] = None
                       ) -> Tuple[torch.Tensor, torch.Tensor, List[str]]:
    """Fashion-MNIST images upsampled (bilinear) to ``size`` like the configs'
    ``Resize``.

    Returns:
        ``(images uint8 (M, 1, size, size), labels (M,), class_names)``.
    """
    import torch.nn.functional as F
    from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES
    images, labels = read_fashion_mnist(data_root, split, limit)
    big = F.interpolate(images[:, None].float(), size=(size, size),
                        mode='bilinear', align_corners=False)
    return (big.round().clamp(0, 255).to(torch.uint8), labels,
            list(FASHIONMNIST_CATEGORITES))
