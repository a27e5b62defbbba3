"""Run a few RM training steps under DDP (gloo, CPU); launched by torchrun.

Each rank writes <out>/rank<k>.json with what the test checks: its batch
sizes, whether its history is its own, and a fingerprint of the weights.
"""
import argparse
import json
import os
import random
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('out')
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--last-batch', type=int, nargs=2, default=[4, 4],
                        help='size of the last batch on rank 0 and rank 1')
    args = parser.parse_args()

    dist.init_process_group('gloo')
    rank = dist.get_rank()
    import mmrm  # noqa: F401
    from mmengine.config import Config
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper
    from mmpretrain.registry import MODELS
    from mmpretrain.utils import register_all_modules

    from helpers import cls_batch

    register_all_modules()
    root = os.path.join(os.path.dirname(__file__), '..', '..')
    cfg = Config.fromfile(os.path.join(
        root, 'configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py'))
    torch.manual_seed(0)  # same initial weights on every rank
    random.seed(100 + rank)  # different boxes per rank
    model_cfg = cfg.model.copy()
    model_cfg['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(model_cfg)
    model.init_weights()
    ddp = MMDistributedDataParallel(model, find_unused_parameters=False)
    optim = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.05))

    record = {'rank': rank, 'loss_rm': [], 'history_len': [], 'batch': []}
    for it in range(args.iters):
        size = 4 if it < args.iters - 1 else args.last_batch[rank]
        data = cls_batch([(rank + it + i) % 10 for i in range(size)], 64, 64,
                         channels=1, seed=1000 * rank + it)
        losses = ddp.train_step(data, optim)
        record['loss_rm'].append(float(losses['loss_rm']))
        record['batch'].append(size)
        record['history_len'].append(
            int(ddp.module.head.history_logits.shape[0]))
    hist = ddp.module.data_preprocessor.recursive_mix.history_inputs
    record['history_sum'] = float(hist.double().sum())
    record['weights_sum'] = float(
        sum(p.detach().double().sum() for p in ddp.module.parameters()))
    record['fc_roi_sum'] = float(ddp.module.head.fc_roi.weight.double().sum())
    with open(os.path.join(args.out, f'rank{rank}.json'), 'w') as f:
        json.dump(record, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
