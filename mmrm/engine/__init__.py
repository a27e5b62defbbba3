from .hooks import RecursiveMixHistoryHook

__all__ = ['RecursiveMixHistoryHook']
