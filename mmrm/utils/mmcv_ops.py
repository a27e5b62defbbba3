"""mmcv's compiled ops: which build is installed, and whether its kernels
run (and agree with the CPU) on a device.

mmdet calls mmcv's ``nms``, ``RoIAlign`` and ``sigmoid_focal_loss`` on the
model's device. A CPU-only mmcv crashes there on CUDA tensors, mid-run
("nms_impl: implementation for device cuda:0 not found"); an mmcv built for
other GPUs fails with "no kernel image is available". :func:`check_ops`
finds both in a fraction of a second:

- ``nms``: 6 boxes, IoU threshold 0.5 -> kept boxes and scores equal the
  CPU result;
- ``RoIAlign`` (2x2 output, scale 0.5, 2 samples, aligned) on an 8x8
  feature map -> equal to the CPU result within 1e-5;
- ``sigmoid_focal_loss`` (CUDA only; mmcv has no CPU kernel) -> equal to
  ``alpha_t (1 - p_t)^gamma BCE(x, t)`` computed with torch, within 1e-5.

    python -m mmrm.utils.mmcv_ops                # CPU, and CUDA if present
    python -m mmrm.utils.mmcv_ops --expect cuda  # fail unless CUDA kernels
"""
import argparse
import json
import sys

import torch

REBUILD = 'bash scripts/setup_env.sh'
REBUILD_HELP = (
    f'Rebuild mmcv\'s ops for this machine: `{REBUILD}` (it detects NVIDIA '
    'GPUs and builds CUDA kernels for them; on a build node without the GPU: '
    f'`MMRM_MMCV_CUDA=1 TORCH_CUDA_ARCH_LIST=<capability, e.g. 9.0> '
    f'{REBUILD}`); see docs/gpu.md.')

#: why an mmcv may have no compiled ops (REBUILD_HELP says what finishes it)
NO_OPS = ("the installed mmcv has none (mmcv-lite: the first stage of "
          "`make demo`'s set-up, whose ops build runs in the background)")


class MmcvOpsError(RuntimeError):
    """mmcv's compiled ops are missing or do not work on the device."""


def missing_ops_error(what: str, alternative: str = '') -> MmcvOpsError:
    """The error when ``what`` (e.g. ``"mmdet models call mmcv's compiled
    ops (nms, RoIAlign, ...)"``) meets an mmcv without compiled ops: what is
    missing, why, the command that finishes it, then ``alternative``."""
    return MmcvOpsError(f'{what}, but {NO_OPS}. {REBUILD_HELP}'
                        f'{" " + alternative if alternative else ""}')


def require_ops(what: str, alternative: str = '') -> None:
    """Raise :func:`missing_ops_error` when mmcv has no compiled ops,
    before an import of mmdet / mmseg would fail deep inside with
    ``No module named 'mmcv._ext'``."""
    if ops_build() == 'missing':
        raise missing_ops_error(what, alternative)


def ops_build() -> str:
    """``'missing'`` (no compiled ops: mmcv-lite, or no mmcv), ``'cpu'``
    (compiled without CUDA) or ``'cuda <version>'``."""
    try:
        from mmcv.ops import get_compiling_cuda_version
    except ImportError:
        return 'missing'
    version = get_compiling_cuda_version()
    return 'cpu' if version == 'not available' else f'cuda {version}'


def _nms(device):
    from mmcv.ops import nms
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30],
                          [21, 19, 31, 29], [0, 0, 4, 4], [50, 50, 60, 70]],
                         dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95, 0.3, 0.5])
    dets, keep = nms(boxes.to(device), scores.to(device), iou_threshold=0.5)
    return torch.cat([dets.float().cpu(), keep.float().cpu()[:, None]], 1)


def _roi_align(device):
    from mmcv.ops import RoIAlign
    g = torch.Generator().manual_seed(0)
    feat = torch.rand(2, 3, 8, 8, generator=g)
    rois = torch.tensor([[0, 1.0, 1.0, 9.0, 13.0], [1, 0.0, 2.0, 15.0, 7.5],
                         [1, 3.3, 4.1, 6.2, 14.9]])
    op = RoIAlign((2, 2), spatial_scale=0.5, sampling_ratio=2, aligned=True)
    return op(feat.to(device), rois.to(device)).cpu()


def _focal_inputs():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(7, 4, generator=g)
    target = torch.tensor([0, 3, 4, 1, 2, 4, 0])  # 4 = background
    return logits, target


def _focal_reference(gamma=2.0, alpha=0.25):
    logits, target = _focal_inputs()
    t = torch.nn.functional.one_hot(target, 5)[:, :4].float()
    p = logits.sigmoid()
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, t, reduction='none')
    p_t = p * t + (1 - p) * (1 - t)
    alpha_t = alpha * t + (1 - alpha) * (1 - t)
    return alpha_t * (1 - p_t)**gamma * bce


def _focal(device):
    from mmcv.ops import sigmoid_focal_loss
    logits, target = _focal_inputs()
    return sigmoid_focal_loss(logits.to(device), target.to(device), 2.0, 0.25,
                              None, 'none').cpu()


def check_ops(device='cpu') -> dict:
    """Run the ops on ``device`` and compare (see the module docstring).

    Returns:
        dict: op name -> max abs difference to the reference.
    Raises:
        MmcvOpsError: missing ops or kernels, or a result that differs.
    """
    device = torch.device(device)
    build = ops_build()
    if build == 'missing':
        raise MmcvOpsError(
            'mmcv has no compiled ops (mmcv-lite, or mmcv without its ops '
            f'extension). {REBUILD_HELP}')
    if device.type == 'cuda' and build == 'cpu':
        raise MmcvOpsError(
            f'mmcv was compiled without CUDA, so its ops cannot run on '
            f'{device}. {REBUILD_HELP}')
    cases = [('nms', _nms, lambda: _nms('cpu'), 0.0),
             ('RoIAlign', _roi_align, lambda: _roi_align('cpu'), 1e-5)]
    if device.type == 'cuda':
        cases.append(('sigmoid_focal_loss', _focal, _focal_reference, 1e-5))
    diffs = {}
    for name, run, reference, tol in cases:
        try:
            got = run(device)
        except Exception as e:  # the kernel is missing or cannot launch
            raise MmcvOpsError(f'mmcv {name} failed on {device} ({build}): '
                               f'{type(e).__name__}: {e}. '
                               f'{_arch_hint(device)}{REBUILD_HELP}') from e
        want = reference()
        if got.shape != want.shape:
            raise MmcvOpsError(f'mmcv {name} on {device}: shape '
                               f'{tuple(got.shape)}, the reference has '
                               f'{tuple(want.shape)}')
        diffs[name] = float((got - want).abs().max()) if got.numel() else 0.
        if diffs[name] > tol:
            raise MmcvOpsError(f'mmcv {name} on {device} differs from the '
                               f'reference by {diffs[name]:.3g} (> {tol})')
    return diffs


def _arch_hint(device) -> str:
    if device.type != 'cuda' or not torch.cuda.is_available():
        return ''
    major, minor = torch.cuda.get_device_capability(device)
    return (f'This GPU is sm_{major}{minor}: was mmcv built with '
            f'TORCH_CUDA_ARCH_LIST including {major}.{minor}? ')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--expect', choices=['any', 'cpu', 'cuda'],
                        default='any', help='cuda: fail unless the ops run '
                        'on every visible GPU')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    devices, note = ['cpu'], ''
    if args.expect == 'cuda' or (args.expect == 'any' and
                                 torch.cuda.is_available()):
        if torch.cuda.is_available():
            devices += [f'cuda:{i}' for i in range(torch.cuda.device_count())]
        elif _smi_lists_gpus():
            print('mmcv ops: CUDA ops expected, nvidia-smi lists GPUs but '
                  f'torch {torch.__version__} sees none (is the driver older '
                  f'than CUDA {torch.version.cuda}?)', file=sys.stderr)
            return 1
        elif not ops_build().startswith('cuda'):
            print(f'mmcv ops: CUDA ops expected, the installed mmcv has '
                  f'{ops_build()} ops. {REBUILD_HELP}', file=sys.stderr)
            return 1
        else:  # a build node: the kernels are there, no GPU to run them
            note = ('; CUDA kernels compiled, not run (no GPU here: '
                    'tools/gpu_check.sh on the GPU machine runs them)')
    report = dict(build=ops_build(), devices={})
    try:
        for device in devices:
            report['devices'][device] = check_ops(device)
    except MmcvOpsError as e:
        print(f'mmcv ops: {e}', file=sys.stderr)
        return 1
    print(json.dumps(report) if args.json else
          f"mmcv ops ({report['build']}): nms, RoIAlign ok on "
          f"{', '.join(devices)}{note}")
    return 0


def _smi_lists_gpus() -> bool:
    import subprocess
    try:
        out = subprocess.run(['nvidia-smi', '-L'], capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and 'GPU' in out.stdout


if __name__ == '__main__':
    sys.exit(main())
