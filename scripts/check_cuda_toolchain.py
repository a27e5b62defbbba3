"""Show, on any machine (no GPU needed), that NVIDIA's CUDA compiler from the
package index compiles one of mmcv's CUDA sources for a GPU architecture
with torch's flags -- the toolchain ``setup_env.sh`` uses on a GPU machine
without a matching system CUDA.

1. ``pip install --target WORK/site cuda-toolkit[nvcc,cccl]==V`` (V: the
   cuda-toolkit version torch depends on; the venv is left alone);
2. a CUDA_HOME from those packages and torch's ``nvidia/cuXX`` tree
   (:func:`mmcv_build.assemble_cuda_home`);
3. mmcv's source archive by pip (sha256 checked), ``-std=c++20`` patch;
4. ``nvcc -c mmcv/ops/csrc/pytorch/cuda/<source>`` with torch's include
   paths and CUDA flags, ``-gencode arch=compute_XY,code=sm_XY``;
5. the object's ``.nv_fatbin`` section must hold a cubin for ``sm_XY``.

    nice -n 19 .venv/bin/python scripts/check_cuda_toolchain.py \\
        --work /tmp/mmrm-cuda-check --arch 9.0
"""
import argparse
import importlib.metadata as md
import os
import os.path as osp
import shlex
import struct
import subprocess
import sys
import sysconfig
import time

import mmcv_build


def fatbin_entries(obj: str, work: str):
    """``[(kind, arch), ...]`` of the ``.nv_fatbin`` section of an object or
    a shared library (kind 1 = PTX, 2 = cubin; arch 90 = sm_90)."""
    raw = osp.join(work, 'fatbin.bin')
    subprocess.run(['objcopy', '-O', 'binary', '--only-section=.nv_fatbin',
                    obj, raw], check=True)
    with open(raw, 'rb') as f:
        data = f.read()
    entries, off = [], 0
    magic_bytes = struct.pack('<I', 0xBA55ED50)
    while off + 16 <= len(data):
        # a linked library holds one fat binary per object, zero-padded to
        # their alignment
        start = data.find(magic_bytes, off)
        if start < 0 or data[off:start].strip(b'\0'):
            if data[off:].strip(b'\0'):
                raise ValueError(f'{obj}: not a CUDA fat binary at {off}')
            break
        off = start
        magic, _, header, size = struct.unpack_from('<IHHQ', data, off)
        pos, end = off + header, off + header + size
        while pos < end:
            kind, _, ehead, esize = struct.unpack_from('<HHIQ', data, pos)
            arch = struct.unpack_from('<I', data, pos + 28)[0]
            entries.append((kind, arch))
            pos += ehead + esize
        off = end
    return entries


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work', default='/tmp/mmrm-cuda-check')
    parser.add_argument('--arch', default='9.0', help='e.g. 9.0 (H100/H200)')
    parser.add_argument('--source', default='nms_cuda.cu')
    args = parser.parse_args(argv)
    import torch
    work = osp.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    cuda = torch.version.cuda
    requirement = f"cuda-toolkit[nvcc,cccl]=={md.version('cuda-toolkit')}"
    site = osp.join(work, 'site')
    print(f'torch {torch.__version__} (CUDA {cuda}); installing '
          f'{requirement} into {site}', flush=True)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q',
                    '--disable-pip-version-check', '--target', site,
                    '--upgrade', requirement], check=True)
    sub = osp.join('nvidia', f"cu{cuda.split('.')[0]}")
    home = mmcv_build.assemble_cuda_home(
        [osp.join(site, sub),
         osp.join(sysconfig.get_paths()['purelib'], sub)],
        osp.join(work, 'cuda'))
    nvcc = osp.join(home, 'bin', 'nvcc')
    print(mmcv_build.nvcc_output(home).strip().splitlines()[-2], flush=True)
    if not osp.isdir(osp.join(work, f'mmcv-{mmcv_build.MMCV_VERSION}')):
        src = mmcv_build.fetch_source(work)
        mmcv_build.patch_cxx_standard(src)
    src = osp.join(work, f'mmcv-{mmcv_build.MMCV_VERSION}')
    csrc = osp.join(src, 'mmcv', 'ops', 'csrc')
    os.environ['CUDA_HOME'] = home  # before torch's extension helpers look
    from torch.utils import cpp_extension
    sm = args.arch.replace('.', '')
    obj = osp.join(work, osp.splitext(args.source)[0] + '.o')
    includes = [osp.join(csrc, d) for d in ('pytorch', 'common',
                                            'common/cuda')]
    includes += cpp_extension.include_paths(device_type='cuda')
    includes.append(sysconfig.get_paths()['include'])
    cmd = [nvcc, *[f'-I{i}' for i in includes], '-DMMCV_WITH_CUDA',
           *cpp_extension.COMMON_NVCC_FLAGS, '--compiler-options', '-fPIC',
           '-DTORCH_API_INCLUDE_EXTENSION_H', '-DTORCH_EXTENSION_NAME=_ext',
           f'-gencode=arch=compute_{sm},code=sm_{sm}', '-std=c++20', '-c',
           osp.join(csrc, 'pytorch', 'cuda', args.source), '-o', obj]
    print('$ ' + ' '.join(shlex.quote(c) for c in cmd), flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True)
    seconds = time.time() - t0
    entries = fatbin_entries(obj, work)
    cubins = [a for k, a in entries if k == 2]
    print(f'{args.source} -> {obj}: {os.path.getsize(obj)} bytes in '
          f'{seconds:.0f} s; fat binary: ' +
          ', '.join(f"{'cubin' if k == 2 else 'ptx'} sm_{a}"
                    for k, a in entries))
    if int(sm) not in cubins:
        print(f'FAIL: no sm_{sm} cubin', file=sys.stderr)
        return 1
    print(f'OK: CUDA {cuda} compiler from the package index built '
          f'{args.source} for sm_{sm}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
