from .recursive_mix_history_hook import RecursiveMixHistoryHook

__all__ = ['RecursiveMixHistoryHook']
