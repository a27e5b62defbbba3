"""The RM modules refuse to train under a Runner that lacks
``RecursiveMixHistoryHook``.

The hook does what the modules cannot do alone (they never see the runner):
clear the history at epoch starts, check the preprocessor/head pairing and
the class counts against the training set, and stop on non-finite
consistency losses (with the AMP skip limit). A child config that sets
``custom_hooks`` replaces the base's list and would drop the hook without a
word, so the preprocessor checks, at each training step inside a Runner's
training loop, that the hook has armed it for this Runner.

"Inside a Runner's training loop" is read from mmengine's message hub (the
channel mmengine gives components without runner access): its
``RuntimeInfoHook`` sets ``loop_stage='train'`` at ``before_train`` and
removes it after training. Calls outside a Runner (tests, the mixing
figures, the train-step benchmark) are not checked.
"""
from typing import Optional

from mmengine.logging import MessageHub

HOOK_FIX = (
    "Add it to the config: custom_hooks = [dict(type='RecursiveMixHistoryHook'"
    "), ...] (a child config that sets custom_hooks replaces its base's list;"
    " keep the base's hooks with custom_hooks = _base_.custom_hooks + "
    '[dict(...)]).')


def current_training_hub() -> Optional[str]:
    """The name of the message hub of the Runner whose training loop is
    running in this process, or None outside a training loop."""
    hub = MessageHub.get_current_instance()
    return hub.instance_name if hub.get_info('loop_stage') == 'train' \
        else None


class HookGuard:
    """Mixin of the RM data preprocessor: :meth:`arm` (called by the hook's
    ``before_train``) and :meth:`check_armed` (each training step)."""

    _armed_for: Optional[str] = None

    def arm(self, hub_name: str) -> None:
        """``RecursiveMixHistoryHook`` drives this module in the Runner whose
        message hub is ``hub_name``."""
        self._armed_for = hub_name

    def check_armed(self) -> None:
        """Raise ``RuntimeError`` naming the fix when a Runner trains this
        module without ``RecursiveMixHistoryHook``."""
        hub = current_training_hub()
        if hub is not None and hub != self._armed_for:
            raise RuntimeError(
                f'{type(self).__name__} is training in an mmengine Runner '
                'without RecursiveMixHistoryHook, which clears the RM history '
                'at each epoch start and checks the preprocessor/head pairing, '
                'the class counts and the consistency loss. ' + HOOK_FIX)
