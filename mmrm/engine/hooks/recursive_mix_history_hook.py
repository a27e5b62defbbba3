"""``RecursiveMixHistoryHook``: clears the RM history at each epoch start."""
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
      different method) and raises ``ValueError`` otherwise.
    - ``before_train_epoch``: when the preprocessor's ``reset_each_epoch`` is
      True (default, as the official code), clears the previous batch and the
      previous logits on this rank, so each epoch starts with a plain batch.
      After ``--resume`` the history is empty anyway (it is not saved in the
      checkpoint), so a resumed run restarts like an epoch start.
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

    def before_train_epoch(self, runner) -> None:
        model = _unwrap(runner.model)
        pre = getattr(model, 'data_preprocessor', None)
        if getattr(pre, 'reset_each_epoch', False):
            for module in model.modules():
                if hasattr(module, 'reset_history'):
                    module.reset_history()
