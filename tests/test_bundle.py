"""scripts/bundle.py's parts that need no build: the CUDA code check of a
shared library (check_cuda_toolchain.fatbin_entries on an ELF file with a
made-up .nv_fatbin section: several fat binaries, zero padding between
them, as a linked library holds them), which resolved packages the node
provides, the pins it reads, the one-arch rule."""
import os.path as osp
import shutil
import struct
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'scripts'))
import bundle  # noqa: E402
import stacks  # noqa: E402
from check_cuda_toolchain import fatbin_entries  # noqa: E402

MAGIC = 0xBA55ED50


def fatbin(*entries):
    """One fat binary: header, then per (kind, arch) a 64-byte entry
    header (arch at byte 28) and a 16-byte payload."""
    body = b''
    for kind, arch in entries:
        head = bytearray(64)
        struct.pack_into('<HHIQ', head, 0, kind, 0x0101, 64, 16)
        struct.pack_into('<I', head, 28, arch)
        body += bytes(head) + b'\x11' * 16
    return struct.pack('<IHHQ', MAGIC, 1, 16, len(body)) + body


def elf_with_fatbin(tmp_path, blob):
    if not (shutil.which('gcc') and shutil.which('objcopy')):
        pytest.skip('needs gcc and objcopy (binutils)')
    src, obj = tmp_path / 'tiny.c', tmp_path / 'tiny.o'
    src.write_text('int tiny(void) { return 1; }\n')
    subprocess.run(['gcc', '-c', str(src), '-o', str(obj)], check=True)
    (tmp_path / 'blob').write_bytes(blob)
    # loadable, as nvcc's is (objcopy -O binary writes loadable sections)
    subprocess.run(['objcopy', '--add-section',
                    f".nv_fatbin={tmp_path / 'blob'}", '--set-section-flags',
                    '.nv_fatbin=alloc,load,readonly,data', str(obj)],
                   check=True)
    return str(obj)


def test_fatbin_entries_of_a_library_read_every_fat_binary(tmp_path):
    blob = (fatbin((2, 90)) + b'\0' * 8 + fatbin((2, 90), (1, 90)) +
            b'\0' * 16)
    obj = elf_with_fatbin(tmp_path, blob)
    assert fatbin_entries(obj, str(tmp_path)) == [(2, 90), (2, 90), (1, 90)]


def test_fatbin_entries_refuse_bytes_that_are_no_fat_binary(tmp_path):
    obj = elf_with_fatbin(tmp_path, fatbin((2, 80)) + b'junk' * 4)
    with pytest.raises(ValueError, match='not a CUDA fat binary'):
        fatbin_entries(obj, str(tmp_path))


def test_node_provided_packages_are_named_as_the_node_names_them():
    node = {'numpy': '2.5.2', 'opencv-python-headless': None}
    to_bundle, provided = bundle.split_node(
        [('numpy', '2.5.5'), ('opencv-python', '4.12.0.88'),
         ('addict', '2.4.0')], node)
    assert to_bundle == [('addict', '2.4.0')]
    assert provided == [('numpy', '2.5.5'),
                        ('opencv-python-headless', '4.12.0.88')]


def test_bundle_takes_the_stacks_mm_pins_from_its_requirements_file():
    reqs = bundle.stack_requirements()
    pins = stacks.read_stack('latest')['pins']
    mm = [p for p in pins if p.startswith('mm')]
    assert len(mm) == 4 and all(p in reqs for p in mm)
    assert not any(r.startswith(('torch', 'numpy')) for r in reqs)


@pytest.mark.parametrize('arch', ['9.0+PTX', '8.0;9.0'])
def test_bundle_builds_one_arch_of_machine_code_only(arch, capsys):
    with pytest.raises(SystemExit):
        bundle.parse_args(['--python', '3.12', '--torch', '2.11.0', '--cuda',
                           '13.0', '--arch', arch, '--out', 'b'])
    assert 'one compute capability' in capsys.readouterr().err
