#!/usr/bin/env bash
# End-to-end RecursiveMix pipeline on real small data, on the CPU (a few minutes):
#
#   1. pretrain  a ResNet-18 (16 base channels) with RecursiveMix on Fashion-MNIST
#                (configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py, shortened)
#   2. convert   its checkpoint to a backbone-only file, verified strictly against
#                mmdet's and mmseg's ResNet
#   3. fine-tune ATSS (mmdet) from that backbone on the COCO-format fixture
#                tests/data/coco_fixture (configs/det/demo/atss_r18-w16-rm_fpn_5e_coco-fixture.py)
#   4. evaluate  the detector with tools/test.py (COCO bbox mAP)
#
# Each stage prints mmengine's progress lines (one per logging interval), then
# its result and output path; a summary comes at the end.
# Usage: demo/pipeline_demo.sh            (outputs in work_dirs/pipeline_demo/)
# Knobs (env): DEMO_WORK_DIR, DEMO_TRAIN_SAMPLES (default 4000), DEMO_EPOCHS (2, >= 2).
# The numbers are a smoke test of the plumbing, not a result: a few minutes of
# CPU training on 28x28 clothing images does not make a detector of nuclei and
# quokkas.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
T0=$(date +%s)

bash scripts/setup_env.sh                 # idempotent: a second run takes a second
PY="$ROOT/.venv/bin/python"

WORK="${DEMO_WORK_DIR:-work_dirs/pipeline_demo}"
N_TRAIN="${DEMO_TRAIN_SAMPLES:-4000}"
EPOCHS="${DEMO_EPOCHS:-2}"
PRE_CFG=configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py
DET_CFG=configs/det/demo/atss_r18-w16-rm_fpn_5e_coco-fixture.py
BACKBONE="$WORK/resnet18-w16_rm_backbone.pth"
rm -rf "$WORK"
mkdir -p "$WORK"

stage() { echo; echo "=== [$1] $2 ($(( $(date +%s) - T0 )) s elapsed)"; }
# run_logged LOG CMD...: run CMD with all its output in LOG, print mmengine's
# progress lines (one per logging interval) as they come; on failure the
# last 50 lines of LOG
run_logged() {
  local log=$1 status; shift
  set +e
  "$@" 2>&1 | tee "$log" | awk '/ - mmengine - INFO - (Epoch|Iter)\((train|val|test)\)/ {
      sub(/^.* - mmengine - INFO - /, "    "); gsub(/ +/, " ");
      print substr($0, 1, 150); fflush() }'
  status=${PIPESTATUS[0]}
  set -e
  if [[ $status -ne 0 ]]; then tail -50 "$log"; exit 1; fi
}
# last value of a scalar logged by mmengine in a work dir (mmrm's log reader)
metric() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys
from mmrm.report.runs import last_metric
try:
    print(f'{last_metric(sys.argv[1], sys.argv[2]):.4g}')
except (FileNotFoundError, KeyError):
    print('n/a')
PYEOF
}
# metrics of a tools/test.py run (work_dir/<timestamp>/<timestamp>.json)
test_metrics() {
  "$PY" - "$1" <<'PYEOF'
import glob, json, sys
files = sorted(glob.glob(f'{sys.argv[1]}/*/*.json'))
print(json.dumps(json.load(open(files[-1]))) if files else 'n/a')
PYEOF
}

stage 0/4 "data: Fashion-MNIST"
FMNIST="$(bash tools/dataset_converters/prepare_fashion_mnist.sh)"
echo "Fashion-MNIST in $FMNIST; COCO-format fixture in tests/data/coco_fixture"

stage 1/4 "pretrain: RecursiveMix, ResNet-18w16, $N_TRAIN Fashion-MNIST images x $EPOCHS epochs"
run_logged "$WORK/pretrain.log" \
  "$PY" tools/train.py "$PRE_CFG" --work-dir "$WORK/pretrain" --cfg-options \
    "train_dataloader.dataset.indices=$N_TRAIN" "train_cfg.max_epochs=$EPOCHS" \
    "train_cfg.val_interval=$EPOCHS" "val_dataloader.dataset.indices=1000" \
    "param_scheduler.1.end=$EPOCHS" "param_scheduler.1.T_max=$(( EPOCHS - 1 ))" \
    default_hooks.logger.interval=10
PRE_CKPT="$(cat "$WORK/pretrain/last_checkpoint")"
PRE_TOP1="$(metric "$WORK/pretrain" accuracy/top1)"
PRE_LOSS="$(metric "$WORK/pretrain" loss)"
echo "last train loss $PRE_LOSS; Fashion-MNIST val top-1 (1000 test images): $PRE_TOP1 %"
echo "checkpoint: $PRE_CKPT (log: $WORK/pretrain.log)"

stage 2/4 "convert: pretraining checkpoint -> backbone-only checkpoint"
PYTHONWARNINGS=ignore::UserWarning \
    "$PY" tools/model_converters/convert_checkpoint.py "$PRE_CKPT" "$BACKBONE" --backbone-config "$PRE_CFG"

stage 3/4 "fine-tune: ATSS + FPN on the COCO-format fixture, backbone loaded strictly"
run_logged "$WORK/det.log" \
  "$PY" tools/train.py "$DET_CFG" --work-dir "$WORK/det" --cfg-options \
    "model.backbone.init_cfg.checkpoint=$BACKBONE"
grep -m1 "strictly loading" "$WORK/det.log" || true
DET_CKPT="$(cat "$WORK/det/last_checkpoint")"
echo "last train loss $(metric "$WORK/det" loss); val bbox mAP after training: $(metric "$WORK/det" coco/bbox_mAP)"
echo "checkpoint: $DET_CKPT (log: $WORK/det.log)"

stage 4/4 "evaluate: tools/test.py on the fixture's validation images"
run_logged "$WORK/det_test.log" \
  "$PY" tools/test.py "$DET_CFG" "$DET_CKPT" --work-dir "$WORK/det_test" \
    --out "$WORK/det_test/predictions.pkl" \
    --cfg-options "model.backbone.init_cfg.checkpoint=$BACKBONE"
DET_METRICS="$(test_metrics "$WORK/det_test")"
echo "metrics: $DET_METRICS"
echo "predictions: $WORK/det_test/predictions.pkl (log: $WORK/det_test.log)"

echo
echo "=== summary ($(( $(date +%s) - T0 )) s in all)"
echo "pretrain  top-1 $PRE_TOP1 %       $PRE_CKPT"
echo "convert   backbone-only      $BACKBONE"
echo "fine-tune ATSS               $DET_CKPT"
echo "evaluate  $DET_METRICS"
