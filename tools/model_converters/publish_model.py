"""Publish an RM pretraining checkpoint as the plain classifier's weights.

    python tools/model_converters/publish_model.py IN_FILE OUT_FILE \
        [--config BASELINE_CONFIG] [--no-ema]

As OpenMMLab's ``publish_model.py`` (mmpretrain, mmdet): the optimizer,
parameter-scheduler and message-hub state are dropped and the file is named
``<OUT_FILE stem>-<first 8 hex digits of its sha256>.pth``. For RecursiveMix
also the training-only RoI classifier ``head.fc_roi.*`` is dropped: the
deployed RM model is the plain classifier (backbone + ``fc`` on the pooled
last stage), which is what mmpretrain's stock config of the same backbone
builds (``LinearClsHead`` after ``GlobalAveragePooling``; the RM head's
``fc`` reads the same pooled features). The output holds only tensors and
plain data (``meta``: the dataset's classes, the epoch/iteration, the source
file), so torch's ``weights_only=True`` loads it without any allow-list.

``--config`` names the stock (baseline) classifier config the weights are
for, e.g. ``configs/pretrain/imagenet/resnet50_8xb64-300e_in1k.py`` for the
ResNet-50 RM run: its model is built and the weights are loaded into it
strictly before the file is written (a mismatch is an error naming the
keys). When the checkpoint holds EMA weights (``EMAHook``), they are
published unless ``--no-ema``.

Inference with the result (docs/inference.md)::

    from mmpretrain.apis import ImageClassificationInferencer
    inferencer = ImageClassificationInferencer(
        model=BASELINE_CONFIG, pretrained='OUT-1a2b3c4d.pth')
    inferencer('image.png')[0]['pred_class']
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
import tempfile

#: state-dict prefixes that only RM training uses
RM_ONLY = ('head.fc_roi.', )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='RM pretraining checkpoint -> the plain classifier\'s '
        'weights, for mmpretrain\'s stock config')
    parser.add_argument('in_file', help='RM checkpoint (e.g. epoch_300.pth)')
    parser.add_argument('out_file', help='output name; the sha256 prefix is '
                        'appended (OUT-1a2b3c4d.pth)')
    parser.add_argument('--config', help='stock classifier config to load '
                        'the weights into strictly before writing')
    parser.add_argument('--no-ema', action='store_true',
                        help='publish the raw weights, not the EMA ones')
    args = parser.parse_args(argv)
    for what, path in (('checkpoint', args.in_file), ('config', args.config)):
        if path is not None and not osp.isfile(path):
            parser.error(f'{what} not found: {path}')
    return args


def _plain(obj):
    """``obj`` with only the types torch's weights-only unpickler accepts
    without an allow-list (numpy scalars become Python numbers)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if hasattr(obj, 'item') and getattr(obj, 'ndim', None) == 0:
        return obj.item()
    return str(obj)


def published_state(checkpoint: dict, use_ema: bool = True):
    """``(state_dict, dropped keys, used_ema)`` of an mmengine checkpoint."""
    import re
    from mmrm.convert import unwrap_state_dict
    state = unwrap_state_dict(checkpoint, 'checkpoint')
    ema = checkpoint.get('ema_state_dict') if isinstance(checkpoint,
                                                         dict) else None
    used_ema = bool(ema) and use_ema
    if used_ema:  # mmengine's EMA model: 'module.<key>' + 'steps'
        for key, value in ema.items():
            key = re.sub(r'^module\.', '', key)
            if key in state:
                state[key] = value
    dropped = sorted(k for k in state if k.startswith(RM_ONLY))
    return ({k: v.detach().cpu().contiguous() for k, v in state.items()
             if k not in dropped}, dropped, used_ema)


def check_loads_into(state: dict, config: str) -> str:
    """Build ``config``'s model and load ``state`` into it strictly; the
    model's type name.

    Raises:
        StrictLoadError: the keys or shapes differ.
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmrm.convert.errors import StrictLoadError, compare_state_dicts
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        from mmpretrain.registry import MODELS
        model = MODELS.build(cfg.model)
    problems = compare_state_dicts(state, model.state_dict())
    if any(problems):
        raise StrictLoadError(
            f'published weights -> {config}', *problems,
            hint='is it the stock config of the same backbone and class '
            'count? (DeiT RM models classify the mean of the patch tokens, '
            'not the class token: no stock DeiT config fits them)')
    model.load_state_dict(state, strict=True)
    return type(model).__name__


def publish(in_file: str, out_file: str, config=None,
            use_ema: bool = True) -> str:
    """Write the published file; returns its path (with the hash)."""
    import datetime

    import torch

    from mmrm.convert.loading import load_checkpoint_file
    checkpoint = load_checkpoint_file(in_file)
    state, dropped, used_ema = published_state(checkpoint, use_ema)
    verified = check_loads_into(state, config) if config else None
    source_meta = checkpoint.get('meta') or {}
    meta = _plain(dict(
        dataset_meta=source_meta.get('dataset_meta', {}),
        epoch=source_meta.get('epoch'), iter=source_meta.get('iter'),
        source=osp.basename(in_file), dropped_keys=dropped, ema=used_ema,
        verified_with=config,
        time=datetime.datetime.now().isoformat(timespec='seconds')))
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.pth')
    os.close(fd)
    try:
        torch.save({'state_dict': state, 'meta': meta}, tmp)
        with open(tmp, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        stem = out_file[:-4] if out_file.endswith('.pth') else out_file
        final = f'{stem}-{sha[:8]}.pth'
        os.replace(tmp, final)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    print(f'published {final}: {len(state)} tensors'
          f'{" (EMA weights)" if used_ema else ""}; dropped '
          f'{", ".join(dropped) or "nothing (no RM-only keys)"}, the '
          'optimizer and the message hub'
          + (f'; loads strictly into {verified} of {config}'
             if verified else ''))
    return final


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmrm.convert.errors import CheckpointError
    try:
        publish(args.in_file, args.out_file, args.config, not args.no_ema)
    except CheckpointError as e:
        print(f'publish_model: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
