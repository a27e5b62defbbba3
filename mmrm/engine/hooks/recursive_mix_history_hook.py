"""``RecursiveMixHistoryHook``: clears the RM history at each epoch start."""
import math

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class RecursiveMixHistoryHook(Hook):
    """Pairs and resets the RecursiveMix state of a classifier.

    - ``before_train``: checks that an RM data preprocessor and an RM head
      are used together (one without the other would silently train a
      different method) and that head, preprocessor and training dataset
      agree on the number of classes; raises ``ValueError`` otherwise.
    - ``before_train_epoch``: when the preprocessor's ``reset_each_epoch`` is
      True (default, as the official code), clears the previous batch and the
      previous logits on this rank, so each epoch starts with a plain batch.
      After ``--resume`` the history is empty anyway (it is not saved in the
      checkpoint), so a resumed run restarts like an epoch start.
    - ``after_train_iter``: stops the run with ``FloatingPointError`` naming
      the iteration when the consistency loss is NaN/Inf (a poisoned history
      would otherwise spread to every later iteration). mmengine already
      reads the logged losses on the host each iteration, so this adds no
      device synchronisation.
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        from mmrm.models import RecursiveMixDataPreprocessor, RecursiveMixHead
        model = _unwrap(runner.model)
        has_pre = isinstance(getattr(model, 'data_preprocessor', None),
                             RecursiveMixDataPreprocessor)
        has_head = isinstance(getattr(model, 'head', None), RecursiveMixHead)
        if has_pre != has_head:
            raise ValueError(
                'RecursiveMix needs both RecursiveMixDataPreprocessor and '
                f'RecursiveMixHead; got data_preprocessor='
                f'{type(getattr(model, "data_preprocessor", None)).__name__}, '
                f'head={type(getattr(model, "head", None)).__name__}. For the '
                '"no consistency loss" ablation use RecursiveMixHead(omega=0).')
        if has_head:
            self._check_num_classes(runner, model)

    @staticmethod
    def _check_num_classes(runner, model) -> None:
        """Head, preprocessor and dataset must agree on the class count."""
        num = model.head.num_classes
        pre_num = model.data_preprocessor.num_classes
        if pre_num != num:
            raise ValueError(
                f'RecursiveMixDataPreprocessor num_classes={pre_num} but '
                f'RecursiveMixHead num_classes={num}.')
        loader = getattr(runner, 'train_dataloader', None)
        dataset = getattr(loader, 'dataset', None)
        classes = getattr(dataset, 'metainfo', {}).get('classes')
        if classes is not None and len(classes) != num:
            raise ValueError(
                f'RecursiveMixHead num_classes={num} but the training dataset '
                f'{type(dataset).__name__} has {len(classes)} classes.')

    def before_train_epoch(self, runner) -> None:
        model = _unwrap(runner.model)
        pre = getattr(model, 'data_preprocessor', None)
        if getattr(pre, 'reset_each_epoch', False):
            for module in model.modules():
                if hasattr(module, 'reset_history'):
                    module.reset_history()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        value = (outputs or {}).get('loss_rm')
        if value is None:
            return
        value = float(value.detach()) if hasattr(value, 'detach') else float(value)
        if not math.isfinite(value):
            raise FloatingPointError(
                f'RecursiveMix consistency loss is {value} at iteration '
                f'{runner.iter + 1} (epoch {runner.epoch + 1}): the previous '
                'logits or the RoI features overflowed (learning rate, AMP '
                'loss scale?).')
