"""``scripts/eval_seeds.py`` (``make eval``) covers the seeds and the five generated bringups: ``--models`` takes any
of them, and an id without a tiny trained checkpoint is refused in one line that lists the known ones."""

import json

from ttbringup.fixtures import FIXTURE_MODELS

from test_bad_input import assert_refused


def test_unknown_model_is_refused_with_the_known_ids(run, tiny):
    r = run("scripts/eval_seeds.py", "--models", "nobody/model", "--out", tiny.tmp / "unknown.md")
    assert_refused(r, "nobody/model", *FIXTURE_MODELS)


def test_a_generated_bringup_alone_meets_the_seed_thresholds(run, tiny):
    out = tiny.tmp / "gemma.md"
    r = run("scripts/eval_seeds.py", "--models", "google/gemma-3-4b-it", "--systems", "n150", "--out", out)
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(out.with_suffix(".json").read_text())
    assert (row["model"], row["system"], row["status"]) == ("google/gemma-3-4b-it", "n150", "ok")
    assert row["checkpoint"] == "tiny trained (ttbringup/fixtures/tiny/google__gemma-3-4b-it)"
    assert row["scored tokens"] == 100 and row["top1"] >= 0.95 and row["top5"] >= 0.99 and row["pcc"] >= 0.99
