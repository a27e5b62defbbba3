"""``RecursiveMixHistoryHook``: clears the RM history at each epoch start."""
import logging
import math

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmpretrain.registry import HOOKS


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def _uses_amp(runner) -> bool:
    """Whether the runner steps with mmengine's ``AmpOptimWrapper``."""
    wrapper = getattr(runner, 'optim_wrapper', None)
    wrappers = wrapper.values() if isinstance(wrapper, OptimWrapperDict) \
        else [wrapper]
    return any(isinstance(w, AmpOptimWrapper) for w in wrappers)


@HOOKS.register_module()
class RecursiveMixHistoryHook(Hook):
    """Pairs and resets the RecursiveMix state of a classifier.

    The RM data preprocessor stops a Runner's training step that runs
    without this hook (:mod:`mmrm.models.hook_guard`), so none of the
    following can be dropped by a config that replaces ``custom_hooks``.

    - ``before_train``: checks that an RM data preprocessor and an RM head
      are used together (one without the other would silently train a
      different method) and that head, preprocessor and training dataset
      agree on the number of classes; raises ``ValueError`` otherwise. Then
      arms the preprocessor for this Runner.
    - ``before_train_epoch``: when ``reset_each_epoch`` is True (default,
      as the official code), clears the previous batch and the previous
      logits on this rank, so each epoch starts with a plain batch.
      After ``--resume`` the history is empty anyway (it is not saved in the
      checkpoint), so a resumed run restarts like an epoch start. Validation
      between epochs never touches the history.
    - ``after_train_iter``: stops the run with ``FloatingPointError`` naming
      the iteration when the consistency loss is NaN/Inf (in float32 the
      next optimizer step would write NaN into the weights). With
      ``AmpOptimWrapper`` a non-finite step is an overflow that the
      GradScaler skips, and the head never uses non-finite history rows, so
      up to ``amp_skip_limit`` such steps in a row are logged as warnings
      and training goes on; one more stops the run (a forward overflow
      that repeats does not go away by lowering the loss scale). mmengine
      already reads the logged losses on the host each iteration, so this
      adds no device synchronisation.

    Args:
        amp_skip_limit (int): non-finite ``loss_rm`` steps in a row that are
            tolerated under ``AmpOptimWrapper``. Defaults to 10.
        reset_each_epoch (bool): clear the history at every epoch start, as
            the official code does. Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self, amp_skip_limit: int = 10,
                 reset_each_epoch: bool = True):
        self.amp_skip_limit = amp_skip_limit
        self.reset_each_epoch = reset_each_epoch
        self._non_finite_in_a_row = 0

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
        if has_pre:
            model.data_preprocessor.arm(runner.message_hub.instance_name)

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
        if not self.reset_each_epoch:
            return
        model = _unwrap(runner.model)
        for module in (getattr(model, 'data_preprocessor', None),
                       getattr(model, 'head', None)):
            if hasattr(module, 'reset_history'):
                module.reset_history()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        value = (outputs or {}).get('loss_rm')
        if value is None:
            return
        value = float(value.detach()) if hasattr(value, 'detach') else float(value)
        if math.isfinite(value):
            self._non_finite_in_a_row = 0
            return
        self._non_finite_in_a_row += 1
        where = (f'RecursiveMix consistency loss is {value} at iteration '
                 f'{runner.iter + 1} (epoch {runner.epoch + 1})')
        if _uses_amp(runner) and \
                self._non_finite_in_a_row <= self.amp_skip_limit:
            print_log(f'{where}: AMP overflow, the GradScaler skips this '
                      f'step ({self._non_finite_in_a_row} in a row, '
                      f'limit {self.amp_skip_limit})', logger='current',
                      level=logging.WARNING)
            return
        raise FloatingPointError(
            f'{where}: the RoI features or logits overflowed (learning '
            'rate, AMP loss scale?).')
