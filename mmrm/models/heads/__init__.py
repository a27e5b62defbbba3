from .recursive_mix_head import RecursiveMixHead, consistency_loss

__all__ = ['RecursiveMixHead', 'consistency_loss']
