"""``ttbringup new``: fit, write the bringup, prove it on a tiny random checkpoint of the same architecture.

Steps: pick the blocks (``architecture_of``) and the choice ``fit.recommend`` makes; write ``model.py``; build a
tiny random checkpoint (``tiny``) and compare the written file's logits with HF's on it (PCC over
``PROMPT_LEN`` prompt positions and ``DECODE_STEPS`` decode steps, threshold ``PCC_MIN``); write
``MODEL_BRINGUP.md`` with the plan and the result; print what was done and what to check next. Returns the exit
code: 0 when the check passed, 1 when it did not (the files stay, for ``scripts/compare_layers.py``).

With block-float weights the PCC that decides is against HF on the weights as the file holds them
(``held.held_reference``): the check is of the file, not of the dtype; the PCC against HF on the checkpoint's own
weights is reported beside it as what the dtype costs.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import torch
import ttnn

from ttbringup.evaluation.cli import CliError, repo_root

from .architectures import architecture_of, build_flags, check_config_args
from .fit import fit, recommend
from .generate import Bringup, render_bringup_md, render_model_py
from .held import held_reference
from .memory import MESH_SHAPES
from .tiny import build_tiny_checkpoint, tiny_checkpoint_dir

PROMPT_LEN, DECODE_STEPS, PCC_MIN = 40, 32, 0.99


def plan_bringup(source, name: str, system: str) -> Bringup:
    """Every decision ``new`` makes for ``source`` (a ``configs.ModelConfig``) on ``system``; nothing written."""
    config = source.config
    arch = architecture_of(config)
    flags = build_flags(arch, config)
    results = fit(config, system, flags)
    pick = recommend(results, config)
    if pick is None:
        raise CliError(f"{name} does not fit {system} with any weights dtype (see `ttbringup fit {name} --system "
                       f"{system}`)" + ("" if system == "t3000" else "; try a larger --system"))
    return Bringup(name=name, system=system, source=source.source, config=config, arch=arch,
                   check_args=check_config_args(arch, config), flags=flags, pick=pick, fit=results)


def _pcc(a, b) -> float:
    return torch.corrcoef(torch.stack([a.double().flatten(), b.double().flatten()]))[0, 1].item()


def _import(path: Path):
    spec = importlib.util.spec_from_file_location("ttbringup_new_" + re.sub(r"\W", "_", str(path)), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@torch.no_grad()
def check_on_tiny(model_py: Path, hf, system: str, choice=None) -> dict:
    """Min PCC of the file's logits over a prefill and teacher-forced decode steps (seeded ids) vs HF on the
    weights as ``choice`` holds them (``prefill_pcc`` / ``decode_pcc``) and, when that rounds any weight, vs HF on
    the checkpoint's own (``float_prefill_pcc`` / ``float_decode_pcc``)."""
    from ttbringup.evaluation.device import opened_device

    ids = torch.randint(3, hf.config.vocab_size, (1, PROMPT_LEN + DECODE_STEPS),
                        generator=torch.Generator().manual_seed(0))
    ref = hf(ids).logits[0]
    held = held_reference(hf, choice) if choice is not None else None
    with opened_device(ttnn, MESH_SHAPES[system]) as device:
        tt = _import(model_py).build_model(hf, device, max_seq_len=128)
        out = tt(ids[:, :PROMPT_LEN])
        got = [out.logits[0]]
        for i in range(PROMPT_LEN, PROMPT_LEN + DECODE_STEPS):
            out = tt(ids[:, i:i + 1], past_key_values=out.past_key_values)
            got.append(out.logits[0])
    got = torch.cat(got)

    def worst(reference) -> tuple[float, float]:
        pccs = [_pcc(got[p], reference[p]) for p in range(len(got))]
        return min(pccs[:PROMPT_LEN]), min(pccs[PROMPT_LEN:])

    result = {"prompt_len": PROMPT_LEN, "decode_steps": DECODE_STEPS}
    if held is not None:
        result["float_prefill_pcc"], result["float_decode_pcc"] = worst(ref)
        ref = held(ids).logits[0]
    result["prefill_pcc"], result["decode_pcc"] = worst(ref)
    return result


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)


def new_bringup(source, name: str, system: str, out: Path) -> int:
    b = plan_bringup(source, name, system)
    out.mkdir(parents=True, exist_ok=True)
    model_py = out / "model.py"
    model_py.write_text(render_model_py(b))
    tiny_dir = tiny_checkpoint_dir(name)
    hf = build_tiny_checkpoint(source.config, tiny_dir)
    check = check_on_tiny(model_py, hf, system, b.choice)
    (out / "MODEL_BRINGUP.md").write_text(render_bringup_md(b, check, tiny_dir))
    ok = check["prefill_pcc"] >= PCC_MIN and check["decode_pcc"] >= PCC_MIN
    rel = _shown(model_py)
    flags = "".join(f" {k}={v}" for k, v in sorted(b.flags.items()))
    print(f"{name} on {system}: {b.arch.model_type} blocks{flags}, {b.choice.name} weights, "
          f"{b.cache_len}-token cache, peak {b.plan.peak_bytes / 1e9:.2f} GB, headroom "
          f"{b.plan.headroom_bytes / 1e9:.2f} GB per chip (from the {b.source})")
    print(f"wrote {rel} and {_shown(out / 'MODEL_BRINGUP.md')}")
    print(f"tiny random checkpoint of the architecture: {tiny_dir}")
    held = "; HF on the weights as the file holds them" if "float_decode_pcc" in check else ""
    print(f"PCC vs HF on it: prefill {check['prefill_pcc']:.5f}, decode {check['decode_pcc']:.5f} "
          f"({'pass' if ok else 'FAIL'}, threshold {PCC_MIN}{held})")
    if held:
        print(f"PCC vs HF on the checkpoint's own weights (what {b.choice.weight.name} costs): prefill "
              f"{check['float_prefill_pcc']:.5f}, decode {check['float_decode_pcc']:.5f}")
        if min(check["float_prefill_pcc"], check["float_decode_pcc"]) < PCC_MIN:
            print(f"note: below {PCC_MIN} on random weights; whether {b.choice.weight.name} is precise enough for "
                  f"{name} is for the real checkpoint's eval to show")
    print("next: python eval.py {0} --model {1}\n      python scripts/compare_layers.py {0} --model {1}\n"
          "      then both with --model {2} once its checkpoint is in the HF cache".format(rel, tiny_dir, name))
    return 0 if ok else 1
