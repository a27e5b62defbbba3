# What every transfer config (configs/transfer/*.py) shares, merged by
# reference like configs/pretrain/_base_/rm.py (names prefixed `scenes_` /
# `r18w16_` so that they never collide with the stock config's keys):
#
#   _base_ = ['../det/atss/atss_r50-baseline_fpn_1x_coco.py',
#             './_base_/fmnist_scenes.py']
#   model = dict(backbone=_base_.r18w16_backbone, ...)
#
# Data: the scenes of tools/dataset_converters/make_fmnist_scenes.py
# (128x128 grey photographs at 30% brightness with 1-4 Fashion-MNIST
# garments each; COCO json for mmdet, ADE20K-style folders for mmseg), 8
# images per batch, read in the main process (CPU).
scenes_data_root = 'data/fmnist_scenes/'
scenes_size = 128
scenes_classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
scenes_loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
scenes_det_train = dict(
    data_root=scenes_data_root,
    metainfo=dict(classes=scenes_classes),
    ann_file='annotations/instances_training.json',
    data_prefix=dict(img='images/training/'))
scenes_det_val = dict(
    data_root=scenes_data_root,
    metainfo=dict(classes=scenes_classes),
    ann_file='annotations/instances_validation.json',
    data_prefix=dict(img='images/validation/'))
scenes_det_ann_val = scenes_data_root + 'annotations/instances_validation.json'

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

# ADE20K-style semantic maps: 0 = background, 1-10 = the garment classes
# (mmseg's BaseSegDataset; ADE20KDataset would fix ADE20K's 150 classes and
# drop label 0).
scenes_seg_classes = ('background', ) + scenes_classes
scenes_seg_dataset = dict(
    type='BaseSegDataset',
    data_root=scenes_data_root,
    metainfo=dict(classes=scenes_seg_classes),
    img_suffix='.jpg',
    seg_map_suffix='.png',
    reduce_zero_label=False)
scenes_seg_train = dict(
    scenes_seg_dataset,
    data_prefix=dict(img_path='images/training',
                     seg_map_path='annotations/training'))
scenes_seg_val = dict(
    scenes_seg_dataset,
    data_prefix=dict(img_path='images/validation',
                     seg_map_path='annotations/validation'))
# the stock ADE20K pipelines (2048x512 random resize, 512x512 crops) at a
# quarter of the scale: random resize around 512x128, 128x128 crops
scenes_seg_scale = (4 * scenes_size, scenes_size)
scenes_seg_crop = (scenes_size, scenes_size)

# Detection schedule: the shape of the stock 1x (linear warm-up from 0.001,
# lr x0.1 at 8/12 and 11/12 of the run) over 500 iterations of 8 scenes
# instead of 12 COCO epochs (90k iterations of 16 images); warm-up 50
# iterations instead of 500.
scenes_det_iters = 500
scenes_det_train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=scenes_det_iters,
    val_interval=scenes_det_iters)
scenes_det_param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=50),
    dict(type='MultiStepLR', begin=0, end=scenes_det_iters, by_epoch=False,
         milestones=[scenes_det_iters * 8 // 12, scenes_det_iters * 11 // 12],
         gamma=0.1)
]
scenes_det_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=scenes_det_iters,
                    max_keep_ckpts=1))
