# What every transfer config (configs/transfer/*.py) shares: the scenes and
# the small backbone. Detection and segmentation add theirs in
# scenes_detection.py / scenes_segmentation.py, which inherit this file. The
# names are prefixed `scenes_` / `r18w16_` so that they never collide with
# the stock config each transfer config inherits beside them, and are used
# by reference (`_base_.scenes_...`), like configs/pretrain/_base_/rm.py.
#
# Data: the scenes of mmrm.datasets.fmnist_scenes
# (tools/dataset_converters/make_fmnist_scenes.py; 128x128 grey photographs
# at 30% brightness with 1-4 Fashion-MNIST garments each; COCO json for
# mmdet, ADE20K-style folders for mmseg), 8 images per batch, read in the
# main process (CPU).
scenes_data_root = 'data/fmnist_scenes/'
scenes_size = 128
scenes_classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
scenes_loader = dict(batch_size=8, num_workers=0, persistent_workers=False)

# Backbone: the narrow ResNet-18 of configs/pretrain/fashion_mnist (16 base
# channels, plain 7x7 stem; stage widths 16, 32, 64, 128), loaded strictly
# from a converted checkpoint
# (`checkpoints/resnet18-w16_{baseline,cutmix,rm}_backbone.pth`; pass another
# with --cfg-options model.backbone.init_cfg.checkpoint=PATH, or random init
# with model.backbone.init_cfg=None).
r18w16_channels = [16, 32, 64, 128]
# BN statistics are re-estimated on the scenes (norm_eval=False, as mmseg's
# stock UperNet; mmdet's stock detectors freeze them): the pretraining's come
# from Fashion-MNIST's black backgrounds and do not describe the scenes, and
# 8 images per batch give usable batch statistics. The stem and stage 1 stay
# frozen in the detectors (stock frozen_stages=1).
r18w16_backbone = dict(
    depth=18,
    stem_channels=16,
    base_channels=16,
    norm_eval=False,
    init_cfg=dict(type='StrictPretrained',
                  checkpoint='checkpoints/resnet18-w16_rm_backbone.pth'))
# The pretraining's input normalisation (grey Fashion-MNIST, 0-255 scale), as
# the paper fine-tunes with its pretraining's (ImageNet) mean/std. Copied
# from configs/pretrain/_base_/datasets/fashion_mnist_64px.py;
# tests/test_transfer.py checks that they are equal.
r18w16_mean = [72.94] * 3
r18w16_std = [90.02] * 3
