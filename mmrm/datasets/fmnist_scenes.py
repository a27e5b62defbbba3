"""Scenes of real Fashion-MNIST garments on real photographs, for the
downstream-transfer benchmark (``python -m benchmarks.transfer.run``);
command line: ``tools/dataset_converters/make_fmnist_scenes.py``.

Each scene is a ``size`` x ``size`` image: a random crop (random side, flip
and rotation by a multiple of 90 degrees) of one of the photographs in
``docs/figures/src`` (scikit-image's sample images), resized to the scene, in
grey levels scaled by ``level``, with 1-4 garments pasted on it (grey, as
Fashion-MNIST stores them) at a random scale of 1x-3x (28-84 px). Grey and
dim by default so that the scenes stay near the domain the Fashion-MNIST
pretraining knows (grey garments on black), as COCO is near ImageNet's: the
pretrained classifiers lose most of their accuracy on garments pasted on
full-brightness photographs (``benchmarks/transfer/background_probe.py``,
docs/transfer.md).
A garment's silhouette is its upsampled pixels above :data:`THRESHOLD`
(cropped to their extent); later garments cover earlier ones, and a placement
is refused when it would leave an earlier garment with less than
``1 - MAX_OCCLUSION`` of its pixels. Instance masks are the *visible*
silhouettes, boxes their extents, and the semantic map is the union of the
instance masks (value = class index + 1, 0 = background).

Garments: training scenes use Fashion-MNIST training images 50,000-59,999
(pretraining uses the first 50,000 at most), validation scenes the test split;
each garment appears once. Deterministic from ``seed``.

Layout (COCO for mmdet, ADE20K-style for mmseg; the semantic maps also serve
HTC's semantic branch through mmdet's ``data_prefix=dict(seg=...)``)::

    OUT/images/{training,validation}/000000.jpg
    OUT/annotations/{training,validation}/000000.png     # semantic maps
    OUT/annotations/instances_{training,validation}.json # COCO, RLE masks
    OUT/meta.json                                        # the parameters
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

#: the background photographs: scikit-image's sample images, kept in the
#: repository's docs/figures/src (pass ``photo_dir`` for a copy elsewhere)
PHOTO_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'docs', 'figures', 'src')
PHOTO_NAMES = ('astronaut', 'cat', 'coffee', 'rocket')
#: Fashion-MNIST images per split used for the scenes: (split, first, end)
SOURCES = {'training': ('train', 50000, 60000), 'validation': ('test', 0, 10000)}
THRESHOLD = 32  # silhouette: upsampled garment pixel > THRESHOLD (0-255)
MAX_OCCLUSION = 0.3
SCALES = (1.0, 3.0)
OBJECTS = (1, 4)
PLACEMENT_TRIES = 20
BACKGROUND_LEVEL = 0.3


def load_photos(grey: bool = True, level: float = BACKGROUND_LEVEL,
                photo_dir: str = PHOTO_DIR) -> List[np.ndarray]:
    """The background photographs as uint8 (H, W, 3) arrays, in grey levels
    (R = G = B) unless ``grey`` is False, intensities scaled by ``level``."""
    mode = 'L' if grey else 'RGB'
    paths = [osp.join(photo_dir, f'{n}.png') for n in PHOTO_NAMES]
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(
            f'background photographs missing: {missing}; they ship in the '
            "repository's docs/figures/src (pass photo_dir=... for a copy)")
    return [(np.asarray(Image.open(p).convert(mode).convert('RGB'),
                        dtype=np.float32) * level).round().astype(np.uint8)
            for p in paths]


def background(rng: np.random.Generator, photos: List[np.ndarray],
               size: int) -> np.ndarray:
    """A random square crop (side >= half the photo's short side) of a random
    photo, flipped / rotated at random, resized to (size, size, 3)."""
    photo = photos[rng.integers(len(photos))]
    h, w = photo.shape[:2]
    side = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
    y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
    crop = np.rot90(photo[y:y + side, x:x + side], k=int(rng.integers(4)))
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    img = Image.fromarray(np.ascontiguousarray(crop))
    return np.asarray(img.resize((size, size), Image.BILINEAR)).copy()


def garment(image28: np.ndarray, scale: float) -> Tuple[np.ndarray, np.ndarray]:
    """A garment upsampled by ``scale`` (bilinear) and cropped to its
    silhouette: ``(pixels uint8 (h, w), silhouette bool (h, w))``."""
    side = max(1, int(round(28 * scale)))
    big = np.asarray(Image.fromarray(image28).resize((side, side),
                                                     Image.BILINEAR))
    sil = big > THRESHOLD
    ys, xs = np.nonzero(sil)
    if len(ys) == 0:
        return big[:0, :0], sil[:0, :0]
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return big[y0:y1, x0:x1], sil[y0:y1, x0:x1]


def compose(rng: np.random.Generator, bg: np.ndarray, garments: List,
            ) -> Tuple[np.ndarray, np.ndarray, List[int]]:
    """Paste garments (``(pixels, silhouette)`` pairs, in order) onto ``bg``.

    Returns:
        ``(image (S, S, 3), owner (S, S) int: index of the visible garment
        or -1, placed: indices of the garments placed)``.
    """
    size = bg.shape[0]
    image, owner = bg.copy(), np.full(bg.shape[:2], -1, dtype=np.int64)
    areas: Dict[int, int] = {}
    for k, (pix, sil) in enumerate(garments):
        h, w = sil.shape
        if h == 0 or h > size or w > size:
            continue
        for _ in range(PLACEMENT_TRIES):
            y, x = int(rng.integers(size - h + 1)), int(rng.integers(size - w + 1))
            covered = owner[y:y + h, x:x + w][sil]
            hidden = np.bincount(covered[covered >= 0], minlength=k)
            if all(areas[j] - hidden[j] >= (1 - MAX_OCCLUSION) * areas[j]
                   for j in areas):
                break
        else:
            continue
        owner[y:y + h, x:x + w][sil] = k
        image[y:y + h, x:x + w][sil] = pix[sil][:, None]
        areas[k] = int(sil.sum())
    return image, owner, sorted(areas)


def make_split(out: str, split: str, count: int, size: int, seed: int,
               fmnist_root: str, photos: List[np.ndarray]) -> dict:
    """Write ``count`` scenes of one split; returns its COCO dict."""
    from pycocotools import mask as mask_utils

    from mmrm.datasets.fashion_mnist import read_fashion_mnist
    fm_split, first, end = SOURCES[split]
    images, labels = read_fashion_mnist(fmnist_root, fm_split, end)
    images, labels = images[first:].numpy(), labels[first:].numpy()
    rng = np.random.default_rng([seed, list(SOURCES).index(split)])
    img_dir = osp.join(out, 'images', split)
    sem_dir = osp.join(out, 'annotations', split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(sem_dir, exist_ok=True)
    coco = dict(images=[], annotations=[], categories=[
        dict(id=i + 1, name=n) for i, n in enumerate(class_names())])
    nxt = 0
    for img_id in range(count):
        n = int(rng.integers(OBJECTS[0], OBJECTS[1] + 1))
        if nxt + n > len(images):
            raise ValueError(f'{split}: {count} scenes need more than the '
                             f'{len(images)} garments of {fm_split}[{first}:{end}]')
        idx = list(range(nxt, nxt + n))
        nxt += n
        pieces = [garment(images[i], rng.uniform(*SCALES)) for i in idx]
        image, owner, placed = compose(rng, background(rng, photos, size),
                                       pieces)
        semantic = np.zeros((size, size), dtype=np.uint8)
        name = f'{img_id:06d}'
        for k in placed:
            mask = owner == k
            label = int(labels[idx[k]])
            semantic[mask] = label + 1
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            ys, xs = np.nonzero(mask)
            coco['annotations'].append(dict(
                id=len(coco['annotations']) + 1, image_id=img_id,
                category_id=label + 1, iscrowd=0, area=int(mask.sum()),
                bbox=[int(xs.min()), int(ys.min()),
                      int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)],
                segmentation=dict(size=list(rle['size']),
                                  counts=rle['counts'].decode('ascii')),
                fmnist_index=first + idx[k]))
        Image.fromarray(image).save(osp.join(img_dir, name + '.jpg'),
                                    quality=95)
        Image.fromarray(semantic).save(osp.join(sem_dir, name + '.png'))
        coco['images'].append(dict(id=img_id, file_name=name + '.jpg',
                                   height=size, width=size))
    with open(osp.join(out, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f)
    return coco


def class_names() -> List[str]:
    """The 10 Fashion-MNIST classes (mmpretrain's names), category ids 1-10."""
    from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES
    return list(FASHIONMNIST_CATEGORITES)


def make_scenes(out: str, train: int, val: int, size: int = 128,
                seed: int = 0, fmnist_root: str = 'data/fashion_mnist',
                grey: bool = True, level: float = BACKGROUND_LEVEL) -> dict:
    """Write both splits and ``meta.json``; skipped when ``meta.json`` already
    records the same parameters. Returns the parameters."""
    params = dict(train=train, val=val, size=size, seed=seed,
                  threshold=THRESHOLD, max_occlusion=MAX_OCCLUSION,
                  scales=list(SCALES), objects=list(OBJECTS),
                  photos=[f'{n}.png' for n in PHOTO_NAMES], grey=grey,
                  background_level=level)
    meta = osp.join(out, 'meta.json')
    if osp.isfile(meta):
        with open(meta) as f:
            if json.load(f) == params:
                return params
    for sub in ('images', 'annotations'):  # no scene of another draw stays
        shutil.rmtree(osp.join(out, sub), ignore_errors=True)
    photos = load_photos(grey=grey, level=level)
    for split, count in (('training', train), ('validation', val)):
        make_split(out, split, count, size, seed, fmnist_root, photos)
    with open(meta, 'w') as f:
        json.dump(params, f, indent=1)
    return params
