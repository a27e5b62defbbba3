# The detection side of the transfer configs (ATSS, GFL, Mask R-CNN, HTC),
# inherited beside a stock mmdet recipe and used by reference:
#
#   _base_ = ['../det/atss/atss_r50-baseline_fpn_1x_coco.py',
#             './_base_/scenes_detection.py']
#   model = dict(_base_.scenes_det_model, bbox_head=dict(...))
#   (train_dataloader, val_dataloader, test_dataloader, val_evaluator,
#    test_evaluator) = _base_.scenes_box_data
_base_ = './fmnist_scenes.py'

# the small backbone, its normalisation, an FPN 64 wide (stock 256, in
# proportion to the backbone)
scenes_det_model = dict(
    data_preprocessor=dict(mean=_base_.r18w16_mean,
                           std=_base_.r18w16_std),
    backbone=_base_.r18w16_backbone,
    neck=dict(in_channels=_base_.r18w16_channels, out_channels=64))
# two-stage detectors: RPN 64 wide; 1/60 of a COCO image's pixels and 1-4
# objects, so 300 proposals instead of 1000 (HTC trains with 2000)
scenes_rpn_head = dict(in_channels=64, feat_channels=64)
scenes_proposals = dict(nms_pre=1000, max_per_img=300)

# mmdet's stock COCO pipelines (coco_detection / coco_instance, HTC's with
# the semantic maps for training) with the scenes' size instead of
# 1333x800; tests/test_transfer.py checks them against the stock ones.
# (Functions are not kept in a merged config, only what they return.)
def make_pipelines(**annotations):
    """[train, test] pipelines; ``annotations``: with_mask, with_seg."""
    image = dict(type='LoadImageFromFile', backend_args=None)
    size = _base_.scenes_size
    resize = dict(type='Resize', scale=(size, size), keep_ratio=True)
    load = dict(type='LoadAnnotations', with_bbox=True, **annotations)
    test_load = {k: v for k, v in load.items() if k != 'with_seg'}
    return [
        [image, load, resize, dict(type='RandomFlip', prob=0.5),
         dict(type='PackDetInputs')],
        [image, resize, test_load,
         dict(type='PackDetInputs', meta_keys=('img_id', 'img_path',
                                               'ori_shape', 'img_shape',
                                               'scale_factor'))]]


def make_data(pipelines, seg_prefix=None):
    """[train, val, test] loaders of the scenes' COCO files and [val, test]
    evaluators (the stock COCO metric, on the scenes' validation file)."""
    prefix = dict(img='images/training/')
    if seg_prefix:
        prefix['seg'] = seg_prefix
    common = dict(data_root=_base_.scenes_data_root,
                  metainfo=dict(classes=_base_.scenes_classes))
    val_ann = 'annotations/instances_validation.json'
    val = dict(_base_.scenes_loader, dataset=dict(
        common, ann_file=val_ann, data_prefix=dict(img='images/validation/'),
        pipeline=pipelines[1]))
    evaluator = dict(ann_file=_base_.scenes_data_root + val_ann)
    return [
        dict(_base_.scenes_loader, dataset=dict(
            common, ann_file='annotations/instances_training.json',
            data_prefix=prefix, pipeline=pipelines[0])),
        val, val, evaluator, evaluator]


# boxes; boxes + masks; boxes + masks + semantic maps (HTC's training)
scenes_box_data = make_data(make_pipelines())
scenes_mask_data = make_data(make_pipelines(with_mask=True))
scenes_htc_data = make_data(make_pipelines(with_mask=True, with_seg=True),
                            seg_prefix='annotations/training/')

# Schedule: the shape of the stock 1x (linear warm-up from 0.001, lr x0.1 at
# 8/12 and 11/12 of the run) over 500 iterations of 8 scenes instead of 12
# COCO epochs (90k iterations of 16 images); warm-up 50 iterations instead of
# 500. [train_cfg, param_scheduler, default_hooks, log_processor, env_cfg]
scenes_det_iters = 500
scenes_det_runtime = [
    dict(_delete_=True, type='IterBasedTrainLoop', max_iters=scenes_det_iters,
         val_interval=scenes_det_iters),
    [dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
          end=50),
     dict(type='MultiStepLR', begin=0, end=scenes_det_iters, by_epoch=False,
          milestones=[scenes_det_iters * 8 // 12,
                      scenes_det_iters * 11 // 12], gamma=0.1)],
    dict(checkpoint=dict(by_epoch=False, interval=scenes_det_iters,
                         max_keep_ckpts=1)),
    dict(by_epoch=False),
    dict(dist_cfg=dict(backend='gloo'))]
