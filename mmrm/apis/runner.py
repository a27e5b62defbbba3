"""The one way mmrm runs a config: ``tools/train.py``, ``tools/test.py``, the
demos and the benchmarks all go through :func:`train` / :func:`test`.

* :func:`prepare_process` imports ``mmrm`` (registers the RM components and
  ``StrictPretrained``) and allow-lists mmengine's checkpoint types for torch
  >= 2.6's weights-only loading, so that ``--resume`` / ``load_from`` of
  mmengine checkpoints work without unpickling arbitrary code;
* :func:`build_cfg` applies the command-line options to a config;
* :func:`train` builds the Runner, runs the preflight checks
  (:mod:`mmrm.apis.preflight`) and trains; :func:`test` refuses a checkpoint
  that does not match the model, then evaluates. Without CUDA a distributed
  launch uses gloo (:mod:`mmrm.apis.distributed`).
"""
import os.path as osp
import sys
from typing import Optional, Sequence

from .quiet import known_harmless_warnings_filtered


def prepare_process() -> None:
    """Import mmrm and allow-list mmengine's checkpoint types for
    weights-only loading (process-wide)."""
    import mmrm  # noqa: F401
    from mmrm.convert import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()


def default_work_dir(config_path: str) -> str:
    """``work_dirs/<config stem>`` (relative to the current directory)."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def parse_cfg_options(pairs: Sequence[str]) -> dict:
    """``['a.b=1', 'c=[1,2]']`` (``--cfg-options``) -> dict, values parsed
    as mmengine's ``DictAction`` parses them."""
    import argparse

    from mmengine.config import DictAction
    bad = [p for p in pairs if '=' not in p]
    if bad:
        raise ValueError(f'--cfg-options wants KEY=VALUE pairs, got {bad}')
    namespace = argparse.Namespace()
    DictAction([], 'cfg_options')(None, namespace, list(pairs))
    return namespace.cfg_options


def build_cfg(config, work_dir: Optional[str] = None,
              cfg_options=None, launcher: str = 'none',
              resume: Optional[str] = None, amp: bool = False,
              auto_scale_lr: bool = False):
    """Config from a file (or a ``Config``) and the command-line options.

    Args:
        config (str | Config): config file or an already loaded config.
        work_dir: overrides the config's; default ``work_dirs/<stem>``.
        cfg_options: ``--cfg-options`` as a dict, or as the command line's
            ``KEY=VALUE`` strings (:func:`parse_cfg_options`); merged last
            but one.
        launcher: ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        resume: ``'auto'`` (latest checkpoint of the work dir) or a path.
        amp: switch the optimizer wrapper to ``AmpOptimWrapper``.
        auto_scale_lr: enable ``auto_scale_lr`` (needs its base batch size).
    """
    from mmengine.config import Config
    if isinstance(config, Config):
        cfg, path = config, config.filename or 'config.py'
    else:
        with known_harmless_warnings_filtered():
            cfg, path = Config.fromfile(config), config
    cfg.launcher = launcher
    if cfg_options and not isinstance(cfg_options, dict):
        cfg_options = parse_cfg_options(cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(path)
    if amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('[mmrm] AMP is already enabled in the config',
                  file=sys.stderr)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if auto_scale_lr:
        asl = cfg.get('auto_scale_lr', None)
        if not asl or 'base_batch_size' not in asl:
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.'
                               'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        if not osp.isfile(resume):
            raise FileNotFoundError(f'--resume: no such checkpoint: {resume}')
        cfg.resume = True
        cfg.load_from = resume
    return cfg


def build_runner(cfg):
    """Runner from the config (``runner_type`` respected); the known-harmless
    warnings of :mod:`.quiet` are filtered while it is built."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    with known_harmless_warnings_filtered():
        if 'runner_type' not in cfg:
            return Runner.from_cfg(cfg)
        return RUNNERS.build(cfg)


def _bare_model(runner):
    from mmengine.model import is_model_wrapper
    return runner.model.module if is_model_wrapper(runner.model) \
        else runner.model


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`; ``str()`` is the one line that says how
    to continue (tools/train.py prints it instead of a traceback)."""


def resume_hint(cfg, command: Optional[str] = None) -> str:
    """The line printed after Ctrl-C: the checkpoint ``--resume`` would
    continue from (mmengine's ``last_checkpoint`` of the work dir) and the
    command that does it."""
    from mmengine.runner import find_latest_checkpoint
    ckpt = find_latest_checkpoint(cfg.work_dir)
    if command is None:
        command = (f'python tools/train.py {cfg.filename} --work-dir '
                   f'{cfg.work_dir}')
    if ckpt is None:
        return (f'[mmrm] interrupted before the first checkpoint of '
                f'{cfg.work_dir}: nothing to resume, `{command}` starts over')
    return (f'[mmrm] interrupted: `{command} --resume` continues from '
            f'{ckpt}')


def _end_training_loop_stage(runner) -> None:
    """A Runner stopped inside its training loop leaves
    ``loop_stage='train'`` in its message hub (mmengine removes it only after
    a finished training); remove it, so that an RM model used afterwards in
    this process is not taken for one training in a Runner."""
    if runner.message_hub.get_info('loop_stage') == 'train':
        runner.message_hub.pop_info('loop_stage')


def train(cfg, allow_partial_load: bool = False,
          extra_hooks: Sequence = (), command: Optional[str] = None):
    """Build the Runner of ``cfg`` (from :func:`build_cfg`), run the preflight
    checks and train, holding the work dir
    (:func:`~mmrm.apis.work_dir_lock.work_dir_writer`).

    Args:
        cfg (Config): the run's config.
        allow_partial_load: accept a ``--resume``/``load_from`` checkpoint
            that does not match the model (mmengine's behaviour).
        extra_hooks: hook objects registered before training (benchmarks).
        command: the command line that started the run (recorded in the work
            dir's marker and named after Ctrl-C); default: tools/train.py
            with the config and work dir.

    Returns:
        The Runner, after training.

    Raises:
        WorkDirBusyError: another live run writes ``cfg.work_dir``.
        TrainingInterrupted: Ctrl-C (the first one stops at the next
            iteration boundary, :mod:`~mmrm.apis.interrupt`); its message
            names the ``--resume`` command and the checkpoint it would
            continue from.
    """
    from .distributed import setup_cpu_distributed
    from .interrupt import stop_at_iteration_boundary
    from .ops_guard import ensure_mmcv_ops
    from .preflight import preflight
    from .work_dir_lock import work_dir_writer
    prepare_process()
    ensure_mmcv_ops(cfg)
    with work_dir_writer(cfg.work_dir, command or ''):
        setup_cpu_distributed(cfg, cfg.get('launcher', 'none'))
        runner = build_runner(cfg)
        for hook in extra_hooks:
            runner.register_hook(hook)
        try:
            with known_harmless_warnings_filtered(), \
                    stop_at_iteration_boundary(runner):
                preflight(runner, cfg, allow_partial_load=allow_partial_load)
                runner.train()
        except KeyboardInterrupt as e:
            raise TrainingInterrupted(resume_hint(cfg, command)) from e
        finally:
            _end_training_loop_stage(runner)
    return runner


def test(cfg, checkpoint: str, allow_partial_load: bool = False,
         extra_metrics: Sequence = ()):
    """Evaluate ``checkpoint`` with ``cfg``'s test loop.

    mmengine loads with ``strict=False``: a checkpoint that does not hold
    exactly the model's keys and shapes is refused
    (:func:`~mmrm.apis.preflight.check_checkpoint_matches`) unless
    ``allow_partial_load`` (and then at least one key must load).

    Returns:
        dict: the metrics.
    """
    from .distributed import setup_cpu_distributed
    from .ops_guard import ensure_mmcv_ops
    from .preflight import check_checkpoint_matches
    prepare_process()
    ensure_mmcv_ops(cfg)
    cfg.load_from = checkpoint
    setup_cpu_distributed(cfg, cfg.get('launcher', 'none'))
    runner = build_runner(cfg)
    check_checkpoint_matches(_bare_model(runner), checkpoint,
                             allow_partial_load)
    for metric in extra_metrics:
        runner.test_evaluator.metrics.append(metric)
    with known_harmless_warnings_filtered():
        return runner.test()
