from .recursive_mix_head import RecursiveMixHead, consistency_loss
from .token_grid import box_to_grid, check_spatial, grid_scale

__all__ = ['RecursiveMixHead', 'consistency_loss', 'box_to_grid',
           'check_spatial', 'grid_scale']
