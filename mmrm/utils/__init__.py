"""Small helpers shared by the report, analysis and benchmark code."""
from .markdown import markdown_table, mean_std

__all__ = ['markdown_table', 'mean_std']
