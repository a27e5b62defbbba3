"""``percent()`` of the transfer benchmark: every metric in %, whatever the
library logs (mmdet: COCO AP as a fraction; mmseg: mIoU already in %)."""
import pytest

from benchmarks.transfer.stages import percent


def test_percent_scales_coco_fractions_and_keeps_miou():
    assert percent('atss', {'coco/bbox_mAP': 0.415}) == {
        'bbox_mAP': pytest.approx(41.5)}
    assert percent('mask_rcnn', {'coco/bbox_mAP': 0.398,
                                 'coco/segm_mAP': 0.355}) == {
        'bbox_mAP': pytest.approx(39.8), 'segm_mAP': pytest.approx(35.5)}
    assert percent('upernet', {'mIoU': 42.05}) == {'mIoU': 42.05}
    # mmdet's COCO metric logs nothing when no box passes its score
    # threshold: an AP of 0
    assert percent('atss', {}) == {'bbox_mAP': 0.0}
