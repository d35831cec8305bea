"""The five bringups ``ttbringup new`` wrote (models/<id>/<system>/functional/model.py), on their tiny trained
checkpoints against HF, on the emulator: teacher forcing 100 reference tokens after prompts/bringup_eval_long.txt
at the seeds' thresholds (top-1 >= 95 %, top-5 >= 99 %), what ``make eval`` reports for them.

n150 and the 2x4 T3000 mesh (the widest sharding); ``make eval`` also runs n300.
"""

import pytest
import ttnn  # the emulator: conftest.py registered it

from seed_helpers import model_py
from test_seed_models import reference_continuation, trained
from ttbringup.evaluation.device import opened_device
from ttbringup.evaluation.teacher_forcing import teacher_force
from ttbringup.fixtures import NEW_MODELS


@pytest.mark.parametrize("system", ["n150", "t3000"])
@pytest.mark.parametrize("hf_id", NEW_MODELS, ids=[h.split("/")[1] for h in NEW_MODELS])
def test_teacher_forcing_on_trained_tiny_checkpoint(hf_id, system):
    hf, _ = trained(hf_id)
    prompt, ref = reference_continuation(hf_id)
    module = model_py(hf_id, system)
    shape = getattr(module, "MESH_SHAPE", None)  # n150 files declare none: a single device
    with opened_device(ttnn, tuple(shape) if shape else None) as device:
        tt = module.build_model(hf, device, max_seq_len=256)
        result = teacher_force(hf, tt, prompt[0].tolist(), ref.tolist(), progress=False)
    assert result.total == 100
    assert result.top1 >= 0.95 and result.top5 >= 0.99, (result.top1, result.top5, result.first_mismatch)
