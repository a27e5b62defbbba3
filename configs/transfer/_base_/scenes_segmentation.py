# The segmentation side of the transfer configs (PSPNet, UperNet), inherited
# beside a stock mmseg recipe and used by reference:
#
#   _base_ = ['../seg/upernet/upernet_r50-baseline_8xb2-80k_ade20k-512x512.py',
#             './_base_/scenes_segmentation.py']
#   model = dict(_base_.scenes_seg_model, decode_head=dict(...))
#   train_dataloader, val_dataloader = _base_.scenes_seg_loaders
_base_ = './fmnist_scenes.py'

# ADE20K-style semantic maps: 0 = background, 1-10 = the garment classes
# (mmseg's BaseSegDataset; ADE20KDataset would fix ADE20K's 150 classes and
# drop label 0, hence no reduce_zero_label either).
scenes_seg_classes = ('background', ) + _base_.scenes_classes
scenes_seg_crop = (_base_.scenes_size, _base_.scenes_size)
scenes_seg_norm = dict(type='BN', requires_grad=True)  # one process: no SyncBN

# the small backbone (BN), its normalisation, the auxiliary FCN head 32 wide
# (stock 256) on stage 3; the decode heads are 64 wide (stock 512)
scenes_seg_model = dict(
    data_preprocessor=dict(size=scenes_seg_crop, mean=_base_.r18w16_mean,
                           std=_base_.r18w16_std),
    backbone=dict(_base_.r18w16_backbone, norm_cfg=scenes_seg_norm),
    auxiliary_head=dict(
        in_channels=_base_.r18w16_channels[2], channels=32,
        num_classes=len(scenes_seg_classes), norm_cfg=scenes_seg_norm))
scenes_seg_decode_head = dict(channels=64,
                              num_classes=len(scenes_seg_classes),
                              norm_cfg=scenes_seg_norm)


# mmseg's stock ADE20K pipelines (2048x512 random resize, 512x512 crops) at
# a quarter of the scale: random resize around 512x128, 128x128 crops;
# tests/test_transfer.py checks them against the stock ones.
def make_seg_loaders():
    """[train, val] loaders of the scenes' ADE20K-style folders."""
    size = _base_.scenes_size
    scale = (4 * size, size)
    load = dict(type='LoadAnnotations')
    train = [
        dict(type='LoadImageFromFile'), load,
        dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=(size, size), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs')]
    test = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=scale, keep_ratio=True), load,
            dict(type='PackSegInputs')]
    dataset = dict(type='BaseSegDataset', data_root=_base_.scenes_data_root,
                   metainfo=dict(classes=scenes_seg_classes),
                   img_suffix='.jpg', seg_map_suffix='.png',
                   reduce_zero_label=False)
    return [dict(_base_.scenes_loader, dataset=dict(
        dataset, data_prefix=dict(img_path=f'images/{split}',
                                  seg_map_path=f'annotations/{split}'),
        pipeline=pipeline))
        for split, pipeline in (('training', train), ('validation', test))]


scenes_seg_loaders = make_seg_loaders()

# Schedule: 1000 iterations of 8 scenes instead of 80k of 16 (the stock
# poly decay over them; the configs set the lr).
# [train_cfg, default_hooks, env_cfg]
scenes_seg_iters = 1000
scenes_seg_runtime = [
    dict(max_iters=scenes_seg_iters, val_interval=scenes_seg_iters),
    dict(checkpoint=dict(interval=scenes_seg_iters, max_keep_ckpts=1)),
    dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))]
