"""``DumpRankState``: each rank writes, after training, what the multi-node
tests compare (tests/test_multinode.py): its parameters, its RM history and
the labels of its last training batch, to ``<work_dir>/rank<R>.pth``.

Imported by the training processes through the test config's
``custom_imports`` (tests/scripts is put on their PYTHONPATH)."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DumpRankState(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.last_labels = None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.last_labels = torch.tensor(
            [int(s.gt_label) for s in data_batch['data_samples']])

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        history = model.data_preprocessor.recursive_mix
        torch.save(dict(
            rank=get_rank(), iters=runner.iter,
            params={k: v.detach().cpu() for k, v in model.named_parameters()},
            history_inputs=history.history_inputs.cpu(),
            history_scores=history.history_scores.cpu(),
            history_logits=model.head.history_logits.cpu(),
            last_labels=self.last_labels),
            osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
