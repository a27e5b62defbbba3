#!/usr/bin/env bash
# Build (or re-use) the project virtualenv at .venv/ with the pinned OpenMMLab stack.
#
# Idempotent: a stamp file records the pinned set; a second run with the same pins
# returns in a second.  mmcv 2.1.0 ships as a source archive only and must be
# compiled with its C++ ops (~12 min on 2 cores); the built wheel is cached under
# $MMRM_CACHE (default ~/.cache/mmrm), keyed by Python, torch and mmcv versions.
#
# Why these pins (measured on these x86_64 CPU machines, Python 3.11):
#   * torch 2.13.0 (CPU, on local disk) has no importable torchvision on the index,
#     torch 2.14.1 + torchvision 0.29.1 do (both lie on local disk for pip);
#   * mmdet 3.3.0 / mmsegmentation 1.2.2 need mmcv < 2.2.0  -> mmcv 2.1.0;
#   * torch 2.14's headers need C++20, mmcv 2.1.0's setup.py forces -std=c++17
#     (mmcv issue 3341, no release with the fix): we patch the flag before building;
#   * setuptools 82 dropped pkg_resources (used by mmcv's setup.py and by mmengine's
#     `mmdet::`/`mmseg::` config inheritance) and torch 2.14 wants >= 77.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY_BIN="${MMRM_PYTHON:-python3.11}"

TORCH_VER=2.14.1
TORCHVISION_VER=0.29.1
MMCV_VER=2.1.0
MMCV_URL=https://files.pythonhosted.org/packages/a7/19/f97f0fd4d432113a232e75f965335be6b7bb6557ae9faf8051e9a012cadd/mmcv-2.1.0.tar.gz
MMCV_SHA256=d387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f
PINS=(
  "setuptools>=77,<82" "wheel" "numpy==2.2.6"
  "mmengine==0.10.7" "mmpretrain==1.2.0" "mmdet==3.3.0" "mmsegmentation==1.2.2"
  "ftfy" "regex" "pycocotools" "matplotlib" "pytest" "pytest-xdist"
)
STAMP_KEY="gradcam=1.5.7 torch=$TORCH_VER tv=$TORCHVISION_VER mmcv=$MMCV_VER ${PINS[*]} setup=$(sha1sum "$ROOT/setup.py" | cut -c1-12)"
STAMP="$VENV/.mmrm-setup-stamp"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_KEY" ]]; then
  exit 0
fi

log() { echo "[setup_env] $*" >&2; }
t0=$(date +%s)

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV with $PY_BIN"
  "$PY_BIN" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install -q --disable-pip-version-check)

log "installing torch $TORCH_VER / torchvision $TORCHVISION_VER and build tools"
"${PIP[@]}" "torch==$TORCH_VER" "torchvision==$TORCHVISION_VER" "setuptools>=77,<82" wheel "numpy==2.2.6" ninja

PYTAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
CACHE="${MMRM_CACHE:-$HOME/.cache/mmrm}/mmcv-$MMCV_VER-torch$TORCH_VER-$PYTAG-$(uname -m)"
mkdir -p "$CACHE"
if ! ls "$CACHE"/mmcv-*.whl >/dev/null 2>&1; then
  log "building mmcv $MMCV_VER with ops against torch $TORCH_VER (takes ~12 min on 2 cores)"
  BUILD=$(mktemp -d)
  curl -fsSL -o "$BUILD/mmcv.tar.gz" "$MMCV_URL"
  echo "$MMCV_SHA256  $BUILD/mmcv.tar.gz" | sha256sum -c --quiet -
  tar -xzf "$BUILD/mmcv.tar.gz" -C "$BUILD"
  SRC="$BUILD/mmcv-$MMCV_VER"
  grep -q -- '-std=c++17' "$SRC/setup.py" || { log "mmcv setup.py changed: no -std=c++17 flag to patch"; exit 1; }
  sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
  (cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" FORCE_CUDA=0 \
      "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$BUILD/dist" .)
  cp "$BUILD"/dist/mmcv-*.whl "$CACHE/"
  rm -rf "$BUILD"
fi
log "installing mmcv from $CACHE"
"${PIP[@]}" --no-deps --force-reinstall "$CACHE"/mmcv-*.whl
# mmcv's own runtime requirements (installed --no-deps above)
"${PIP[@]}" addict "packaging" "Pillow" "pyyaml" "yapf" "opencv-python-headless"

log "installing the OpenMMLab libraries"
"${PIP[@]}" "mmcv==$MMCV_VER" "torch==$TORCH_VER" "torchvision==$TORCHVISION_VER" "${PINS[@]}"
# Grad-CAM for tools/analysis_tools/vis_cam.py, pinned without its dependency
# resolver (a newer scikit-learn would drag in more packages)
"${PIP[@]}" --no-deps grad-cam==1.5.7 ttach==0.0.3 scikit-learn==1.6.1 \
  joblib==1.4.2 threadpoolctl==3.8.0
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"

"$PY" - <<'PYCHECK'
import mmcv, mmcv.ops, mmdet, mmseg, mmpretrain, mmengine, torch, torchvision  # noqa
from mmcv.ops import RoIAlign, nms  # compiled ops present
print(f"[setup_env] ok: torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, mmpretrain {mmpretrain.__version__}, "
      f"mmdet {mmdet.__version__}, mmseg {mmseg.__version__}")
PYCHECK
echo "$STAMP_KEY" > "$STAMP"
log "done in $(( $(date +%s) - t0 )) s"
