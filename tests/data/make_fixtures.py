"""Regenerate the tiny COCO and ADE20K fixtures under ``tests/data/``.

The fixtures are made from real images (and their real annotations) that ship
inside three PyPI packages. Install them, without their dependencies, into a
scratch folder (never into the project venv)::

    python3 -m pip install --no-deps --target /tmp/fixture_pkgs \
        imgaug==0.4.0 stardist==0.9.2 deepforest==2.1.0
    .venv/bin/python tests/data/make_fixtures.py --src /tmp/fixture_pkgs

Only numpy, OpenCV and pycocotools are needed to run this script (all are in
the project venv). The packages are read as plain files; none of them is
imported.

What is made (see ``tests/data/LICENSES.md`` for the sources' licences):

``coco_fixture/`` -- COCO 2017 layout, detection + instance segmentation::

    annotations/instances_train2017.json   3 images
    annotations/instances_val2017.json     2 images
    train2017/*.jpg  val2017/*.jpg
    stuffthingmaps/train2017/*.png         semantic maps for HTC

  categories: 1 ``nucleus`` (stardist's 2018 Data Science Bowl image: every
  nucleus is a labelled instance; masks from its label image), 2 ``animal``
  (imgaug's quokka photo with its annotated outline polygon).
  Instance masks are stored as polygons traced from the label masks; boxes
  and areas are pycocotools' (from the polygons).
  ``stuffthingmaps`` follow COCO-stuff's convention (pixel = category_id - 1,
  255 = unlabelled): instance pixels carry their category, every other pixel
  is 255 because the sources have no stuff labels.

``ade_fixture/`` -- ADEChallengeData2016 layout, semantic segmentation::

    images/training/*.jpg        annotations/training/*.png      2 images
    images/validation/*.jpg      annotations/validation/*.png    2 images

  Annotation pngs use ADE20K's 150-class convention: 0 = unlabelled (ignored
  with ``reduce_zero_label=True``), ``k`` = class ``k - 1`` of
  ``mmseg.datasets.ADE20KDataset``: 5 = ``tree`` (DeepForest's NEON tree-crown
  boxes, rasterised as filled rectangles, so the masks are coarse) and
  127 = ``animal`` (the quokka polygon). Pixels not covered by an annotation
  are 0: the sources do not say what they are.
"""
import argparse
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET

import cv2
import numpy as np

# ADE20K png values (1-based: 0 is "unlabelled"); checked against
# mmseg's ADE20KDataset.METAINFO in tests/test_det_seg_configs.py.
ADE_TREE = 5
ADE_ANIMAL = 127

COCO_CATEGORIES = [
    dict(id=1, name='nucleus', supercategory='cell'),
    dict(id=2, name='animal', supercategory='animal'),
]
NUCLEUS, ANIMAL = 1, 2
STUFF_IGNORE = 255
JPEG_QUALITY = 90


# --------------------------------------------------------------- sources
def _read_quokka(src):
    """Return the quokka photo (H=643, W=960, 3 BGR uint8) and its outline
    polygon as an (N, 2) float array of (x, y) pixel coordinates."""
    img = cv2.imread(osp.join(src, 'imgaug', 'quokka.jpg'), cv2.IMREAD_COLOR)
    with open(osp.join(src, 'imgaug', 'quokka_annotations.json')) as f:
        ann = json.load(f)
    points = ann['polygons'][0]['keypoints']
    poly = np.array([[p['x'], p['y']] for p in points], dtype=np.float64)
    return img, poly


def _read_nuclei(src):
    """Return stardist's 2-D nuclei image as (512, 512, 3) BGR uint8 and its
    instance label image (512, 512) int32 (0 = background, k = nucleus k)."""
    img = cv2.imread(
        osp.join(src, 'stardist', 'data', 'images', 'img2d.tif'),
        cv2.IMREAD_UNCHANGED)
    lab = cv2.imread(
        osp.join(src, 'stardist', 'data', 'images', 'mask2d.tif'),
        cv2.IMREAD_UNCHANGED)
    if img is None or lab is None:
        raise FileNotFoundError(f'stardist images not found under {src}')
    img = np.clip(img, 0, 255).astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), lab.astype(np.int32)


def _read_forest(src, name):
    """Return a DeepForest tile (400, 400, 3) BGR uint8 and its tree boxes as
    an (N, 4) int array of (xmin, ymin, xmax, ymax), read from the tile's
    Pascal-VOC xml."""
    data = osp.join(src, 'deepforest', 'data')
    img = cv2.imread(osp.join(data, name + '.png'), cv2.IMREAD_COLOR)
    root = ET.parse(osp.join(data, name + '.xml')).getroot()
    boxes = []
    for obj in root.iter('object'):
        bb = obj.find('bndbox')
        boxes.append([int(float(bb.find(k).text))
                      for k in ('xmin', 'ymin', 'xmax', 'ymax')])
    return img, np.array(boxes, dtype=np.int64)


# --------------------------------------------------------------- helpers
def _polygon_mask(poly, shape):
    """Rasterise an (N, 2) (x, y) polygon into a bool mask of ``shape``."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
    return mask.astype(bool)


def _mask_to_coco(mask):
    """Trace a bool (H, W) mask into COCO polygons.

    bbox [x, y, w, h] and area are computed by pycocotools from the polygons
    (as COCO's own annotations are), and so is the returned raster, which the
    stuff map uses: json and pngs agree with what the datasets decode.
    Specks whose contour has fewer than 3 points, or whose polygon rasterises
    to nothing, are dropped.

    Returns:
        tuple | None: (polygons, bbox, area, raster bool (H, W) mask), or
        None when nothing is left.
    """
    from pycocotools import mask as mask_utils
    h, w = mask.shape
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polys = [c.reshape(-1).astype(float).tolist() for c in contours
             if len(c) >= 3]
    if not polys:
        return None
    rle = mask_utils.merge(mask_utils.frPyObjects(polys, h, w))
    area = int(mask_utils.area(rle))
    if area == 0:
        return None
    bbox = [round(float(v), 2) for v in mask_utils.toBbox(rle)]
    return polys, bbox, area, mask_utils.decode(rle).astype(bool)


class _CocoWriter:
    """Accumulates one COCO split: images, annotations and stuff maps."""

    def __init__(self, root, split):
        self.root, self.split = root, split
        self.images, self.anns = [], []
        for sub in (f'{split}2017', 'annotations'):
            os.makedirs(osp.join(root, sub), exist_ok=True)

    def add(self, file_name, img, instances, with_stuff):
        """Add one image.

        Args:
            file_name (str): jpg name inside ``<split>2017/``.
            img (np.ndarray): (H, W, 3) BGR uint8.
            instances (list[tuple[int, np.ndarray]]): (category_id, bool
                (H, W) mask) per object.
            with_stuff (bool): also write ``stuffthingmaps/<split>2017/``.
        """
        h, w = img.shape[:2]
        image_id = len(self.images) + 1
        cv2.imwrite(osp.join(self.root, f'{self.split}2017', file_name), img,
                    [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        self.images.append(
            dict(id=image_id, file_name=file_name, height=h, width=w))
        stuff = np.full((h, w), STUFF_IGNORE, np.uint8)
        for cat_id, mask in instances:
            coco = _mask_to_coco(mask)
            if coco is None:
                continue
            polys, bbox, area, raster = coco
            self.anns.append(
                dict(id=len(self.anns) + 1, image_id=image_id,
                     category_id=cat_id, segmentation=polys, bbox=bbox,
                     area=area, iscrowd=0))
            stuff[raster] = cat_id - 1
        if with_stuff:
            out = osp.join(self.root, 'stuffthingmaps', f'{self.split}2017')
            os.makedirs(out, exist_ok=True)
            cv2.imwrite(osp.join(out, osp.splitext(file_name)[0] + '.png'),
                        stuff)

    def dump(self):
        path = osp.join(self.root, 'annotations',
                        f'instances_{self.split}2017.json')
        with open(path, 'w') as f:
            json.dump(dict(images=self.images, annotations=self.anns,
                           categories=COCO_CATEGORIES), f)


def _nuclei_crop(img, lab, y0, x0, size=256):
    """Crop image and label image; return (img, [(NUCLEUS, mask), ...])."""
    ci = img[y0:y0 + size, x0:x0 + size].copy()
    cl = lab[y0:y0 + size, x0:x0 + size]
    instances = [(NUCLEUS, cl == k) for k in np.unique(cl) if k != 0]
    return ci, instances


def _quokka_view(img, poly, x0, x1, out_w):
    """Crop columns [x0, x1) of the quokka photo and resize to width
    ``out_w``; return (img, scaled polygon)."""
    crop = img[:, x0:x1]
    scale = out_w / crop.shape[1]
    out_h = int(round(crop.shape[0] * scale))
    small = cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA)
    p = (poly - [x0, 0]) * scale
    p[:, 0] = np.clip(p[:, 0], 0, out_w - 1)
    p[:, 1] = np.clip(p[:, 1], 0, out_h - 1)
    return small, p


# --------------------------------------------------------------- fixtures
def make_coco(src, root):
    nuc_img, nuc_lab = _read_nuclei(src)
    q_img, q_poly = _read_quokka(src)

    train = _CocoWriter(root, 'train')
    for name, (y0, x0) in (('nuclei_a.jpg', (0, 0)),
                           ('nuclei_b.jpg', (0, 256))):
        img, inst = _nuclei_crop(nuc_img, nuc_lab, y0, x0)
        train.add(name, img, inst, with_stuff=True)
    img, poly = _quokka_view(q_img, q_poly, 0, q_img.shape[1], 320)
    mask = _polygon_mask(poly, img.shape[:2])
    train.add('quokka_a.jpg', img, [(ANIMAL, mask)], with_stuff=True)
    train.dump()

    val = _CocoWriter(root, 'val')
    img, inst = _nuclei_crop(nuc_img, nuc_lab, 256, 128)
    val.add('nuclei_c.jpg', img, inst, with_stuff=False)
    img, poly = _quokka_view(q_img, q_poly, 100, 700, 224)
    mask = _polygon_mask(poly, img.shape[:2])
    val.add('quokka_b.jpg', img, [(ANIMAL, mask)], with_stuff=False)
    val.dump()


def _write_ade(root, split, name, img, label):
    for sub in ('images', 'annotations'):
        os.makedirs(osp.join(root, sub, split), exist_ok=True)
    cv2.imwrite(osp.join(root, 'images', split, name + '.jpg'), img,
                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    cv2.imwrite(osp.join(root, 'annotations', split, name + '.png'), label)


def _forest_sample(src, tile, size=200):
    """DeepForest tile downscaled to ``size``; tree boxes filled with
    ADE_TREE, the rest 0 (unlabelled)."""
    img, boxes = _read_forest(src, tile)
    scale = size / img.shape[1]
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    label = np.zeros((size, size), np.uint8)
    for x0, y0, x1, y1 in np.round(boxes * scale).astype(int):
        label[max(y0, 0):min(y1, size), max(x0, 0):min(x1, size)] = ADE_TREE
    return small, label


def make_ade(src, root):
    q_img, q_poly = _read_quokka(src)

    img, poly = _quokka_view(q_img, q_poly, 0, q_img.shape[1], 320)
    label = _polygon_mask(poly, img.shape[:2]).astype(np.uint8) * ADE_ANIMAL
    _write_ade(root, 'training', 'quokka_a', img, label)
    _write_ade(root, 'training', 'forest_osbs029',
               *_forest_sample(src, 'OSBS_029'))

    img, poly = _quokka_view(q_img, q_poly, 100, 700, 224)
    label = _polygon_mask(poly, img.shape[:2]).astype(np.uint8) * ADE_ANIMAL
    _write_ade(root, 'validation', 'quokka_b', img, label)
    _write_ade(root, 'validation', 'forest_soap061',
               *_forest_sample(src, 'SOAP_061'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', default='/tmp/fixture_pkgs',
                        help='folder the three packages were installed into')
    parser.add_argument('--out', default=osp.dirname(osp.abspath(__file__)),
                        help='tests/data folder to write the fixtures into')
    args = parser.parse_args()
    for pkg in ('imgaug', 'stardist', 'deepforest'):
        if not osp.isdir(osp.join(args.src, pkg)):
            raise SystemExit(f'{pkg} not found in {args.src}; install it with '
                             'pip install --no-deps --target (see docstring)')
    make_coco(args.src, osp.join(args.out, 'coco_fixture'))
    make_ade(args.src, osp.join(args.out, 'ade_fixture'))


if __name__ == '__main__':
    main()
