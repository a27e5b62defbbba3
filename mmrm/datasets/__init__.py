"""Data readers for tools and benchmarks (Runners use mmpretrain's datasets)."""
from .fashion_mnist import load_fashion_mnist, normalization, read_fashion_mnist

__all__ = ['load_fashion_mnist', 'normalization', 'read_fashion_mnist']
