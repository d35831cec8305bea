"""``--numerics exact|card|both`` on the entry points: parsing and bad values, and the card-mode numbers it
reports on a real seed model file (emulator, the bundled tiny trained checkpoint of Llama-3.2-1B).

The eval runs start together (see conftest.Runner); their keys start with ``num_`` (the runner is session-wide).
"""

import json
import re

import pytest

from conftest import FAKE, REPO

SEED_ID = "meta-llama/Llama-3.2-1B"
SEED_FILE = REPO / "models" / SEED_ID / "n150" / "functional" / "model.py"
SEED_CKPT = REPO / "ttbringup" / "fixtures" / "tiny" / SEED_ID.replace("/", "__")
PROMPT = ("--prompt", "The bridge carries its own weight first, then the deck and the traffic")
TOKENS = ("--max_new_tokens", 8)


# ----------------------------------------------------------------------------- the helper, in process

def test_flag_overrides_the_environment(monkeypatch):
    from ttbringup.evaluation.numerics import requested

    monkeypatch.delenv("TTBRINGUP_NUMERICS", raising=False)
    assert requested(None) == ("exact",)
    monkeypatch.setenv("TTBRINGUP_NUMERICS", "Card")
    assert requested(None) == ("card",)
    assert requested("exact") == ("exact",)
    assert requested("both") == ("exact", "card")
    monkeypatch.setenv("TTBRINGUP_NUMERICS", "")
    assert requested(None) == ("exact",)


@pytest.mark.parametrize("value, env, both, fragment", [
    ("fast", None, True, "--numerics 'fast' is not a numerics mode; choose one of exact, card, both"),
    ("both", None, False, "--numerics 'both' is not a numerics mode; choose one of exact, card"),
    (None, "fast", True, "$TTBRINGUP_NUMERICS='fast' is not a numerics mode; choose one of exact, card"),
    (None, "both", True, "$TTBRINGUP_NUMERICS='both' is not a numerics mode"),  # both is a flag, not a mode
])
def test_bad_values_are_named(monkeypatch, value, env, both, fragment):
    from ttbringup.evaluation.cli import CliError
    from ttbringup.evaluation.numerics import requested

    if env is None:
        monkeypatch.delenv("TTBRINGUP_NUMERICS", raising=False)
    else:
        monkeypatch.setenv("TTBRINGUP_NUMERICS", env)
    with pytest.raises(CliError) as err:
        requested(value, both)
    assert fragment in str(err.value)


def test_helper_modes_are_the_emulator_switch_modes():
    from ttbringup.emu import numerics_mode
    from ttbringup.evaluation import numerics

    assert numerics.MODES == numerics_mode.MODES and numerics.ENV_VAR == numerics_mode.ENV_VAR


def test_apply_sets_the_emulator_mode():
    from ttbringup.emu import numerics_mode
    from ttbringup.evaluation.numerics import apply

    before = numerics_mode.mode()
    try:
        apply("card")
        assert numerics_mode.is_card()
        apply("exact")
        assert numerics_mode.mode() == "exact"
    finally:
        numerics_mode.set_mode(before)


# ----------------------------------------------------------------------------- bad values on every entry point

BAD_VALUE_RUNS = {
    "eval": ("eval.py", str(FAKE / "model.py"), "--numerics", "fast"),
    "run_eval": ("scripts/run_eval.py", "--hf-model", "x/y", "--numerics", "fast"),
    "compare": ("scripts/compare_layers.py", str(FAKE / "model.py"), "--numerics", "fast"),
    "eval_seeds": ("scripts/eval_seeds.py", "--numerics", "fast"),
    "demo_both": ("demo.py", str(FAKE / "model.py"), "--numerics", "both"),
    "perf": ("scripts/perf_report.py", str(SEED_FILE), "--numerics", "fast"),
    "memory_plan": ("scripts/memory_plan.py", "--numerics", "fast"),
}


@pytest.mark.parametrize("key", sorted(BAD_VALUE_RUNS))
def test_a_bad_value_is_one_error_line_and_exit_2(run, tiny, key):
    script, *args = BAD_VALUE_RUNS[key]
    r = run(script, *args, "--model", tiny.ckpt) if key in ("eval", "compare", "demo_both", "perf") else \
        run(script, *args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "is not a numerics mode" in errors[0], r.stderr


def test_a_bad_environment_value_is_one_error_line(run, tiny):
    r = run("eval.py", FAKE / "model.py", "--model", tiny.ckpt, TTBRINGUP_NUMERICS="fast")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert [line for line in r.stderr.splitlines() if line.startswith("error: ")] == [
        "error: $TTBRINGUP_NUMERICS='fast' is not a numerics mode; choose one of exact, card"]


# ----------------------------------------------------------------------------- card numbers on a seed

@pytest.fixture(scope="module")
def seed_runs(run, tiny):
    if not (SEED_FILE.is_file() and (SEED_CKPT / "config.json").is_file()):
        pytest.skip("no seed model file or tiny checkpoint")
    common = (SEED_FILE, "--model", SEED_CKPT, *PROMPT, *TOKENS)
    run.start("num_both", "eval.py", *common, "--numerics", "both", "--json", tiny.tmp / "num_both.json")
    run.start("num_env_card", "eval.py", *common, "--json", tiny.tmp / "num_env_card.json", TTBRINGUP_NUMERICS="card")
    run.start("num_flag_exact", "eval.py", *common, "--numerics", "exact", "--json", tiny.tmp / "num_exact.json",
              TTBRINGUP_NUMERICS="card")
    run.start("num_run_eval", "scripts/run_eval.py", "--hf-model", SEED_CKPT, "--model-file", SEED_FILE,
              "--prefill-len", 12, "--decode-len", 6, "--numerics", "both")
    run.start("num_compare", "scripts/compare_layers.py", *common[:3], *PROMPT, "--numerics", "both",
              "--plot", tiny.tmp / "num_compare.png", "--json", tiny.tmp / "num_compare.json")
    run.start("num_advisor", "scripts/fidelity_advisor.py", *common, "--classes", "mlp",
              "--json", tiny.tmp / "num_advisor.json")
    run.start("num_seeds", "scripts/eval_seeds.py", "--models", SEED_ID, "--systems", "n150", "--max_new_tokens", 3,
              "--numerics", "both", "--out", tiny.tmp / "num_seeds" / "eval.md")
    return run


def test_eval_reports_both_modes_and_card_is_less_accurate(seed_runs, tiny):
    r = seed_runs.result("num_both")
    assert r.returncode == 0, r.stderr
    data = json.loads((tiny.tmp / "num_both.json").read_text())
    assert data["numerics"] == "both" and list(data["by_numerics"]) == ["exact", "card"]
    exact, card = data["by_numerics"]["exact"], data["by_numerics"]["card"]
    assert (data["top1"], data["logits_pcc"]) == (exact["top1"], exact["logits_pcc"])  # headline = exact mode
    # The card computes matmuls at HiFi2 into a bf16 Dst: its logits are further from float32 HF than exact mode's.
    assert card["logits_pcc"] < exact["logits_pcc"]
    assert re.search(r"^Bringup: .* \| numerics: both$", r.stdout, re.M)
    for mode in ("exact", "card"):
        m = data["by_numerics"][mode]
        assert re.search(rf"^  {mode}\s+{m['top1'] * 100:.2f}%\s+{m['top5'] * 100:.2f}%\s+{m['logits_pcc']:.6f}",
                         r.stdout, re.M), r.stdout


def test_one_build_for_both_modes_scores_each_as_a_run_of_its_own(seed_runs, tiny):
    assert seed_runs.result("num_both").returncode == 0
    both = json.loads((tiny.tmp / "num_both.json").read_text())
    for key, path, mode in (("num_env_card", "num_env_card.json", "card"), ("num_flag_exact", "num_exact.json", "exact")):
        r = seed_runs.result(key)
        assert r.returncode == 0, r.stderr
        alone = json.loads((tiny.tmp / path).read_text())
        assert alone["numerics"] == mode  # the flag beats $TTBRINGUP_NUMERICS=card; without a flag it counts
        assert alone["predicted_ids"] == both["by_numerics"][mode]["predicted_ids"]
        assert alone["logits_pcc"] == pytest.approx(both["by_numerics"][mode]["logits_pcc"], abs=1e-12)


def test_run_eval_keeps_its_keys_and_adds_the_numerics(seed_runs):
    r = seed_runs.result("num_run_eval")
    assert r.returncode == 0, r.stderr
    m = r.json_line("YT_METRICS=")
    old = {"mode", "model", "system", "backend", "trace", "trace_used", "batch", "prefill_len", "decode_len", "total",
           "top1", "top5", "logits_pcc", "first_mismatch", "prefill_decode", "random_weights", "seconds"}
    assert old <= set(m) and m["numerics"] == "both"
    assert set(m["by_numerics"]) == {"exact", "card"}
    assert (m["top1"], m["logits_pcc"]) == (m["by_numerics"]["exact"]["top1"], m["by_numerics"]["exact"]["logits_pcc"])
    assert m["by_numerics"]["card"]["logits_pcc"] < m["by_numerics"]["exact"]["logits_pcc"]


def test_compare_layers_shows_both_modes_per_layer(seed_runs, tiny):
    r = seed_runs.result("num_compare")
    assert r.returncode == 0, r.stderr
    data = json.loads((tiny.tmp / "num_compare.json").read_text())
    exact, card = (data["by_numerics"][m]["layers"] for m in ("exact", "card"))
    assert [x["name"] for x in exact] == ["embeddings", "layer 0", "layer 1 (+ final norm)"]
    # The embedding lookup is exact in both modes; the layers' matmuls are not.
    assert card[0]["prefill_pcc"] == exact[0]["prefill_pcc"]
    assert card[-1]["prefill_pcc"] < exact[-1]["prefill_pcc"]
    assert "prefill card-exact" in r.stdout and "Largest card-mode loss: layer" in r.stdout
    row = re.search(r"^layer 1 \(\+ final norm\)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", r.stdout, re.M)
    values = [float(v) for v in row.groups()]
    assert values[0] == pytest.approx(exact[-1]["prefill_pcc"], abs=1e-6)
    assert values[1] == pytest.approx(card[-1]["prefill_pcc"], abs=1e-6)
    assert values[4] == pytest.approx(card[-1]["prefill_pcc"] - exact[-1]["prefill_pcc"], abs=2e-6)
    assert (tiny.tmp / "num_compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_seeds_table_has_card_columns(seed_runs, tiny):
    r = seed_runs.result("num_seeds", timeout=600)
    assert r.returncode == 0, r.stderr
    assert ("| top-1 | top-1 card | top-5 | top-5 card | logits PCC | logits PCC card |" in r.stdout), r.stdout
    (row,) = json.loads((tiny.tmp / "num_seeds" / "eval.json").read_text())
    card = row["by_numerics"]["card"]
    assert row["numerics"] == "both" and row["logits PCC card"] == f"{card['logits_pcc']:.6f}"
    assert card["logits_pcc"] < row["by_numerics"]["exact"]["logits_pcc"]


# Bytes of one 32x32 tile: bfloat16 2 B a value; bfloat8_b / bfloat4_b one mantissa byte / nibble a value plus
# 64 shared exponents (one per 16 values).
TILE_BYTES = {"bf16": 2048, "bfp8": 1024 + 64, "bfp4": 512 + 64}


def dram_bytes(rows: int, cols: int, dtype: str) -> int:
    """A [rows, cols] TILE tensor interleaved over 12 DRAM banks: every bank holds ceil(tiles / 12) pages."""
    tiles = -(-rows // 32) * -(-cols // 32)
    return -(-tiles // 12) * 12 * TILE_BYTES[dtype]


def mlp_bytes(config: dict, dtype: str) -> int:
    h, i = config["hidden_size"], config["intermediate_size"]
    return config["num_hidden_layers"] * (2 * dram_bytes(h, i, dtype) + dram_bytes(i, h, dtype))


def test_advisor_table_for_a_seed(seed_runs, tiny):
    r = seed_runs.result("num_advisor", timeout=900)
    assert r.returncode == 0, r.stderr
    data = json.loads((tiny.tmp / "num_advisor.json").read_text())
    rows = data["rows"]
    assert [x["numerics"] for x in rows[:2]] == ["exact", "card"] and len(rows) == 2 + 3 * 3 * 2
    assert all(x["attention"]["weight_dtype"] is None for x in rows)  # --classes mlp: attention stays the file's

    both = json.loads((tiny.tmp / "num_both.json").read_text())  # the same prompt and tokens through eval.py
    for row, mode in zip(rows[:2], ("exact", "card")):
        assert row["top1"] == both["by_numerics"][mode]["top1"]
        assert row["logits_pcc"] == pytest.approx(both["by_numerics"][mode]["logits_pcc"], abs=1e-12)

    def find(dtype, fidelity, fp32):
        return next(x for x in rows if x["mlp"] == {"weight_dtype": dtype, "fidelity": fidelity, "fp32_acc": fp32})

    tiny_config = json.loads((SEED_CKPT / "config.json").read_text())
    real_config = json.loads((REPO / "ttbringup" / "fixtures" / "configs" / "meta-llama__Llama-3.2-1B.json").read_text())
    for dtype in TILE_BYTES:
        row = find(dtype, "HiFi2", False)
        assert row["bytes"]["mlp"] == mlp_bytes(tiny_config, dtype)
        assert row["real_bytes"]["mlp"] == mlp_bytes(real_config, dtype)
    # 0.81.1's default for a bf16 x bf16 linear with bf16 output is HiFi2 into a BF16 Dst: passing it changes nothing.
    assert find("bf16", "HiFi2", False)["logits_pcc"] == rows[1]["logits_pcc"]
    # A bfloat4_b weight has at most 4 significant bits: it fits SrcA's first 5-bit fidelity slice, so HiFi2's
    # second phase multiplies zeros and changes nothing; a bf16 weight loses its low bits at LoFi.
    assert find("bfp4", "LoFi", False)["logits_pcc"] == find("bfp4", "HiFi2", False)["logits_pcc"]
    assert find("bf16", "LoFi", False)["logits_pcc"] < find("bf16", "HiFi4", True)["logits_pcc"]
    assert "| numerics | attention (q/k/v/o) | MLP | SDPA | top-1 | top-5 | logits PCC |" in r.stdout
    assert re.search(r"^- mlp: ", r.stdout, re.M)


def test_suggestion_is_the_cheapest_setting_that_keeps_the_card_scores():
    from ttbringup.evaluation.advisor import Advice, ClassSetting, Row, Setting, suggestions

    def row(mlp, top1, mlp_bytes, pcc=0.99):
        return Row(Setting("card", mlp=mlp), top1, 1.0, pcc, {"attention": 10, "mlp": mlp_bytes}, None, 0.0)

    rows = [Row(Setting("exact"), 1.0, 1.0, 1.0, {"attention": 10, "mlp": 100}, None, 0.0),
            row(ClassSetting(), 0.9, 100),
            row(ClassSetting("bfp4", "LoFi"), 0.8, 25),  # cheapest, but loses top-1
            row(ClassSetting("bfp4", "HiFi4"), 0.9, 25, pcc=0.98),  # keeps top-1, loses more PCC than the slack
            row(ClassSetting("bfp8", "HiFi4", True), 0.9, 50),
            row(ClassSetting("bfp8", "HiFi2"), 0.95, 50),  # as small, fewer phases: chosen
            row(ClassSetting("bf16", "LoFi"), 0.9, 100)]
    advice = Advice("m.py", "m", None, "bfloat16", 10, 5, ("mlp",), rows)
    assert suggestions(advice)["mlp"].setting.mlp == ClassSetting("bfp8", "HiFi2")


def test_write_section_adds_then_replaces_the_card_numerics_section(tmp_path):
    from ttbringup.evaluation.commands.fidelity_advisor import BEGIN, END, write_section

    md = tmp_path / "MODEL_BRINGUP.md"
    md.write_text("# M\n\n## Eval\n\ntext\n\n## Reproduce\n\n```\ncmd\n```\n")
    write_section(md, "first table")
    doc = md.read_text()
    assert doc.index("## Card numerics") < doc.index("## Reproduce") and f"{BEGIN}\nfirst table\n{END}" in doc
    write_section(md, "second table")
    doc = md.read_text()
    assert doc.count("## Card numerics") == 1 and "first table" not in doc and "second table" in doc
    assert doc.endswith("## Reproduce\n\n```\ncmd\n```\n")


def test_a_setting_the_real_model_cannot_hold_is_shown_and_never_suggested():
    from ttbringup.evaluation.advisor import Advice, ClassSetting, Row, Setting, markdown, suggestions

    real = {"attention": 10, "mlp": 100}
    rows = [Row(Setting("exact"), 1.0, 1.0, 1.0, {"attention": 1, "mlp": 10}, real, 0.0),
            Row(Setting("card"), 1.0, 1.0, 0.99, {"attention": 1, "mlp": 10}, real, 0.0),
            Row(Setting("card", mlp=ClassSetting("bf16", "HiFi4", True)), 1.0, 1.0, 0.999,
                {"attention": 1, "mlp": 20}, None, 0.0)]  # more accurate, but the real model does not fit
    advice = Advice("m.py", "m", "org/seed", "bfloat8_b", 10, 5, ("mlp",), rows)
    assert suggestions(advice)["mlp"] is None
    table = markdown(advice)
    assert "| card | file (bfloat8_b, default config) | bf16 HiFi4 fp32-acc | default config | 100.00% | 100.00% " \
           "| 0.999000 | 0.00 MiB | does not fit (device OOM) |" in table
    assert "- mlp: no setting tried keeps" in table


def test_sdpa_rows_vary_fidelity_and_accumulation_only():
    """The SDPA class has no weights: its rows are fidelity x fp32 accumulation, its config keeps the op default's
    approximate mode, and its suggestion is the fewest phases that keep the scores (no byte count)."""
    from ttbringup import backend
    from ttbringup.evaluation.advisor import (Advice, ClassSetting, Row, Setting, markdown, overrides, suggestions,
                                              sweep)

    ttnn = backend.load("emu", announce=False)  # registers it as ttnn, which the shared blocks import
    rows = sweep(("sdpa",))[2:]
    assert [(r.sdpa.weight_dtype, r.sdpa.fidelity, r.sdpa.fp32_acc) for r in rows] == [
        (None, f, acc) for f in ("LoFi", "HiFi2", "HiFi4") for acc in (False, True)]
    assert all(r.attention.is_file and r.mlp.is_file for r in rows)
    chosen = overrides(ttnn, Setting("card", sdpa=ClassSetting(None, "HiFi4", True)))
    assert set(chosen) == {"sdpa"} and chosen["sdpa"].weight_dtype is None
    cfg = chosen["sdpa"].compute_kernel_config
    assert (cfg.math_fidelity, cfg.fp32_dest_acc_en, cfg.math_approx_mode) == (ttnn.MathFidelity.HiFi4, True, True)

    sizes = {"attention": 10, "mlp": 100, "sdpa": 0}
    measured = [Row(Setting("exact"), 1.0, 1.0, 1.0, sizes, None, 0.0),
                Row(Setting("card"), 1.0, 1.0, 0.9990, sizes, None, 0.0),
                Row(Setting("card", sdpa=ClassSetting(None, "LoFi")), 0.9, 1.0, 0.9985, sizes, None, 0.0),
                Row(Setting("card", sdpa=ClassSetting(None, "HiFi2", True)), 1.0, 1.0, 0.9992, sizes, None, 0.0),
                Row(Setting("card", sdpa=ClassSetting(None, "HiFi4")), 1.0, 1.0, 0.9993, sizes, None, 0.0)]
    advice = Advice("m.py", "m", None, "bfloat16", 10, 5, ("sdpa",), measured)
    assert suggestions(advice)["sdpa"].setting.sdpa == ClassSetting(None, "HiFi2", True)
    table = markdown(advice)
    assert "| card | file (bfloat16, default config) | file (bfloat16, default config) | LoFi | 90.00% |" in table
    assert "- sdpa: cheapest setting that keeps the file configuration's card-mode top-1 / top-5 and its logits " \
           "PCC within 0.001: **HiFi2 fp32-acc** (top-1 100.00%" in table
