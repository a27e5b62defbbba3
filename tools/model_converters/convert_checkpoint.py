"""Convert a pretraining checkpoint into a backbone checkpoint for mmdet/mmseg.

    python tools/model_converters/convert_checkpoint.py SRC DST --backbone resnet50
    python tools/model_converters/convert_checkpoint.py SRC DST \
        --backbone-config CONFIG [--resize-pos-embed] [--no-verify]
        [--trust-checkpoint]

SRC: an mmpretrain checkpoint from configs/pretrain (``epoch_300.pth``) or an
official RecursiveMix-pytorch ``.pth``. DST: the backbone-only file
(``{'state_dict', 'meta'}``, loadable with ``weights_only=True``) for
``init_cfg=dict(type='StrictPretrained', checkpoint=DST)``.
``--backbone`` names a preset of a standard shape (e.g. resnet50,
pvtv2-b1, deit-small, swin-tiny; an unknown name lists them all).
``--backbone-config`` takes the target from a config's ``model.backbone``
instead, for any other shape: a pretrain config (e.g. the Fashion-MNIST
ResNet-18 with 16 base channels) or the det/seg config that will load the
file (e.g. a DeiT-S UperNet at 512x512). ``--resize-pos-embed``: ViT/Swin
only, interpolate a position embedding of another grid to the target's
(otherwise that is an error). Exit status 2 for a missing file or an unknown
preset, 1 when the input does not fit the target (the first line of the
message names the difference, e.g. the base width) or when mmcv's compiled
ops, which the strict check needs, are not built yet (right after
``make demo``: the message names the command that finishes them, or
``--no-verify``). The conversion itself is ``mmrm.convert``
(docs/converter.md).
"""
import argparse
import os.path as osp
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='pretraining checkpoint -> mmdet/mmseg backbone '
        'checkpoint',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('src', help='input checkpoint (mmpretrain or official '
                        'RecursiveMix-pytorch)')
    parser.add_argument('dst', help='output backbone checkpoint')
    parser.add_argument('--backbone', default='resnet50',
                        help='target backbone preset of a standard shape, '
                        'e.g. resnet18, resnet50, pvtv2-b1, deit-small, '
                        'swin-tiny (an unknown name lists them all)')
    parser.add_argument('--backbone-config', metavar='CONFIG',
                        help='take the target backbone from CONFIG\'s '
                        'model.backbone (overrides --backbone); needed for '
                        'a non-standard shape such as the Fashion-MNIST '
                        'ResNet-18 with 16 base channels')
    parser.add_argument('--resize-pos-embed', action='store_true',
                        help='ViT/Swin: interpolate (bicubic) a position '
                        'embedding whose grid differs from the target\'s')
    parser.add_argument('--no-verify', dest='verify', action='store_false',
                        default=argparse.SUPPRESS,
                        help='skip the strict loading into mmdet/mmseg '
                        'backbones (it runs unless this is given)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load SRC with full unpickling (weights_only='
                        'False); only for files you trust')
    return parser


def parse_args(argv=None):
    """Options, with the paths checked (before any heavy import)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        parser.error(f'checkpoint not found: {args.src}')
    if args.backbone_config and not osp.isfile(args.backbone_config):
        parser.error(f'--backbone-config: config file not found: '
                     f'{args.backbone_config}')
    if osp.isdir(args.dst):
        parser.error(f'DST is a folder, give a file path: {args.dst}')
    if args.backbone_config:
        return args
    from mmrm.convert import WrongBackboneError, preset_name
    try:
        args.backbone = preset_name(args.backbone, 'or --backbone-config')
    except WrongBackboneError as e:
        parser.error(f'--backbone: {e}')
    return args


def backbone_from_config(path: str):
    """``model.backbone`` of the config at ``path`` as a plain dict (None
    when the config has none)."""
    from mmengine.config import Config

    from mmrm.apis.quiet import known_harmless_warnings_filtered
    with known_harmless_warnings_filtered():
        cfg = Config.fromfile(path)
    backbone = cfg.get('model', {}).get('backbone')
    if backbone is None:
        return None
    return backbone.to_dict() if hasattr(backbone, 'to_dict') \
        else dict(backbone)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmrm.convert import CheckpointError, convert_backbone, write_backbone
    from mmrm.utils.mmcv_ops import MmcvOpsError
    backbone = args.backbone
    if args.backbone_config:
        backbone = backbone_from_config(args.backbone_config)
        if backbone is None:
            print(f'error: {args.backbone_config} has no model.backbone',
                  file=sys.stderr)
            return 1
    try:
        converted = convert_backbone(
            args.src, backbone=backbone,
            verify=getattr(args, 'verify', True),
            trusted=args.trust_checkpoint,
            resize_pos_embed=args.resize_pos_embed)
    except (CheckpointError, FileNotFoundError, MmcvOpsError) as e:
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    print(write_backbone(converted, args.dst).summary())
    return 0


if __name__ == '__main__':
    sys.exit(main())
