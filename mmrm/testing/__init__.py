"""Builders that the test suite and ``tools/gpu_check.py`` share
(:mod:`.finetune_fixtures`). Not imported by ``import mmrm``."""
