"""Speed and memory of the emulated bringups against the HF CPU reference, measured in one run.

    python benchmarks/run.py [--quick] [--json out/bench.json] [--readme]

Figures (each a ratio of two numbers measured in this run, on this machine):
1. teacher-forcing wall time, emulator / HF float32, real-shape Qwen3-0.6B and Llama-3.2-1B with
   random weights: a 128-token one-pass prefill plus 32 decode steps, forward passes only (goal <= 0.5);
2. emulated decode latency per token of real-shape Llama-3.2-1B (goal <= 0.2 s on 2 cores);
3. one-pass prefill of 1024 tokens, emulator / HF, Llama-3.2-1B (goal <= 0.5);
4. the same decode as 2, emulator / HF, while a deliberately busy process of the benchmark's own spins on one
   core (the contended row; goal: the ratio stays within 1.5x of the idle one);
5. host memory: resident bytes the emulated model adds to the process at its peak (prefill and
   decode included) divided by the device bytes the emulator charged for it; bf16 Qwen3-0.6B and
   bfloat8_b AFM-4.5B, whole models (with --quick AFM keeps 4 layers: fixed host buffers then weigh more);
   the HF model is built in bfloat16 and freed layer by layer as the bringup uploads it;
6. emulated decode per token of real-shape Llama-3.2-1B on a T3000 (2x4 mesh, tensor-parallel) over the same on
   one n150, both emulated in one process on the same inputs (goal <= 1.5: eight chips must not cost eight times
   the host work);
7. host time per emulated op in decode: real-shape Llama-3.2-1B's layer count and op sequence with every width
   shrunk (hidden 64) so that compute is negligible: decode step time / ops per step (goal <= 50 us);
8. decode step time of real-shape Llama-3.2-1B with 32 users (each its own prompt length and position) over the
   batch-1 step (goal <= 2: the 32 rows are one matmul), and a traced replay step over the eager step, batch 1
   and 32 (goal <= 0.7);
9. decode step time of real-shape Llama-3.2-1B (batch 1, random weights) in card numerics over exact numerics,
   same model and inputs in one process (goal <= 3: card-mode matmuls must stay cheap);
10. the whole eval of ALLaM-7B on n150 at its real shape (random weights, the 141-token long prompt, 20 scored
   tokens), as ``eval.py`` runs it: wall time and peak RSS (goals <= 15 minutes, <= 20 GB; skipped by --quick).
Each model runs in its own subprocess so peak RSS belongs to one model alone. Every row is printed and written
to the JSON file as soon as it is measured; a row whose child fails (out of memory, error) is reported as failed
with its reason and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOALS = {"tf_ratio": 0.5, "decode_s": 0.2, "prefill_ratio": 0.5, "contended_vs_idle": 1.5, "rss_ratio": 1.1,
         "mesh_ratio": 1.5, "op_overhead_us": 50, "batch_ratio": 2.0, "trace_ratio": 0.7, "card_ratio": 3.0, "eval_7b_s": 15 * 60, "eval_7b_rss": 20e9}


def model_file(hf_id: str, system: str = "n150") -> Path:
    return ROOT / "models" / hf_id / system / "functional" / "model.py"


def rss_bytes(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def random_hf_model(hf_id: str, dtype, num_layers: int | None = None):
    import torch
    from transformers import AutoModelForCausalLM

    from ttbringup.fixtures import real_config

    config = real_config(hf_id)
    if num_layers:
        config.num_hidden_layers = num_layers
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config, dtype=dtype).eval()


def load_bringup(hf_id: str, system: str = "n150"):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_model_{system}", model_file(hf_id, system))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_steps(model, prompt, steps: list):
    """Prefill ``prompt`` then feed each token of ``steps``.

    Returns (prefill s, [decode s], last-position logits of every call as float32 [1 + len(steps), vocab]).
    """
    import torch

    with torch.no_grad():
        t0 = time.perf_counter()
        out = model(prompt, use_cache=True)
        prefill = time.perf_counter() - t0
        logits = [out.logits[0, -1].float()]
        decode = []
        for tok in steps:
            t0 = time.perf_counter()
            out = model(torch.tensor([[tok]]), past_key_values=out.past_key_values, use_cache=True)
            decode.append(time.perf_counter() - t0)
            logits.append(out.logits[0, -1].float())
    return prefill, decode, torch.stack(logits)


def pcc(a, b) -> float:
    import torch

    return float(torch.corrcoef(torch.stack([a.flatten().double(), b.flatten().double()]))[0, 1])


def random_model_and_tokens(hf_id: str, prompt_len: int, decode_steps: int):
    """The real-shape float32 HF model with random weights, a random prompt and decode tokens (seeded)."""
    import torch

    torch.manual_seed(1)
    hf = random_hf_model(hf_id, torch.float32)
    vocab = hf.config.vocab_size
    prompt = torch.randint(0, vocab, (1, prompt_len))
    return hf, prompt, torch.randint(0, vocab, (decode_steps,)).tolist()


def child_speed(hf_id: str, prompt_len: int, decode_steps: int, max_seq_len: int) -> dict:
    """HF float32 and emulated forward times for one model (runs inside a subprocess)."""
    from ttbringup import backend

    ttnn = backend.load("emu", announce=False)
    hf, prompt, steps = random_model_and_tokens(hf_id, prompt_len, decode_steps)
    hf_prefill, hf_decode, hf_logits = run_steps(hf, prompt, steps)
    device = ttnn.open_device(device_id=0)
    try:
        tt = load_bringup(hf_id).build_model(hf, device, max_seq_len)
        del hf
        tt_prefill, tt_decode, tt_logits = run_steps(tt, prompt, steps)
    finally:
        ttnn.close_device(device)
    return {
        "hf_prefill_s": hf_prefill, "hf_decode_s": hf_decode,
        "emu_prefill_s": tt_prefill, "emu_decode_s": tt_decode,
        "logits_pcc": pcc(hf_logits, tt_logits),  # sanity: the timed runs computed the same thing
    }


def child_mesh_decode(hf_id: str, system: str, prompt_len: int, decode_steps: int) -> dict:
    """Emulated decode per token on one n150 and on ``system``'s mesh, same model and inputs (in a subprocess)."""
    from ttbringup import backend
    from ttbringup.evaluation.device import opened_device

    ttnn = backend.load("emu", announce=False)
    hf, prompt, steps = random_model_and_tokens(hf_id, prompt_len, decode_steps)
    out = {}
    for name in ("n150", system):
        module = load_bringup(hf_id, name)
        with opened_device(ttnn, getattr(module, "MESH_SHAPE", None)) as device:
            tt = module.build_model(hf, device, 2048)
            out[name] = run_steps(tt, prompt, steps)
            del tt
    return {"n150_decode_s": out["n150"][1], "mesh_decode_s": out[system][1],
            "logits_pcc": pcc(out["n150"][2], out[system][2])}


def child_batch_decode(hf_id: str, prompt_len: int, decode_steps: int) -> dict:
    """Decode step times of one emulated model, batch 1 and 32, eager and traced (in a subprocess).

    The 32 users' prompts differ in content and length (``prompt_len + u`` tokens), so every row of the batch is
    its own user at its own position. A traced run's first step is eager (warm-up), its second is the capture;
    the replayed steps after them are the ones timed.
    """
    import torch

    from ttbringup import backend
    from ttbringup.evaluation.device import opened_device

    ttnn = backend.load("emu", announce=False)
    hf, _, _ = random_model_and_tokens(hf_id, 1, 0)
    gen = torch.Generator().manual_seed(2)
    vocab = hf.config.vocab_size
    out = {}
    with opened_device(ttnn, None, trace_region_size=64 << 20) as device:
        tt = load_bringup(hf_id).build_model(hf, device, 2048)
        del hf
        for batch in (1, 32):
            prompts = [torch.randint(0, vocab, (prompt_len + u,), generator=gen) for u in range(batch)]
            width = prompt_len + batch - 1
            ids = torch.zeros(batch, width, dtype=torch.long)
            mask = torch.zeros(batch, width, dtype=torch.long)
            for u, p in enumerate(prompts):
                ids[u, width - len(p):], mask[u, width - len(p):] = p, 1
            for traced in (False, True):
                tt.trace_decode = traced
                with torch.no_grad():
                    step = tt(ids, attention_mask=mask, logits_to_keep=1)
                    m, times = mask, []
                    for _ in range(decode_steps + (2 if traced else 0)):
                        m = torch.cat([m, torch.ones(batch, 1, dtype=torch.long)], dim=1)
                        t0 = time.perf_counter()
                        step = tt(torch.randint(0, vocab, (batch, 1), generator=gen),
                                  past_key_values=step.past_key_values, attention_mask=m, logits_to_keep=1)
                        times.append(time.perf_counter() - t0)
                if traced and not tt.decode_traced:
                    raise RuntimeError("the traced run did not replay a trace")
                tt.release_trace()
                out[f"b{batch}_{'traced' if traced else 'eager'}_s"] = times[2:] if traced else times
    return out


def child_card_decode(hf_id: str, num_layers: int | None, prompt_len: int, decode_steps: int) -> dict:
    """Decode step times of one emulated model in exact and in card numerics, same weights and inputs (in a
    subprocess); ``num_layers`` keeps only the first layers (for a smaller check)."""
    import importlib

    import torch

    from ttbringup import backend
    from ttbringup.evaluation.release import releasing_layers

    ttnn = backend.load("emu", announce=False)
    numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
    hf = random_hf_model(hf_id, torch.bfloat16, num_layers)
    vocab = hf.config.vocab_size
    gen = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, vocab, (1, prompt_len), generator=gen)
    steps = torch.randint(0, vocab, (decode_steps,), generator=gen).tolist()
    out = {}
    device = ttnn.open_device(device_id=0)
    try:
        with releasing_layers(hf):
            tt = load_bringup(hf_id).build_model(hf, device, 2048)
        del hf
        for mode in ("exact", "card"):
            with numerics_mode.use(mode):
                _, out[f"{mode}_decode_s"], out[mode] = run_steps(tt, prompt, steps)
    finally:
        ttnn.close_device(device)
    return {"exact_decode_s": out["exact_decode_s"], "card_decode_s": out["card_decode_s"],
            "logits_pcc": pcc(out["exact"], out["card"]), "layers": num_layers}


def counting_ops(ttnn) -> dict:
    """Wrap every emulated op of ``ttnn`` (and its experimental / transformer namespaces) to count its calls; an op
    called from inside another op is not counted again. Returns the live {op name: calls} dict."""
    import types

    counts, depth = {}, [0]

    def counted(name, fn):
        def run(*args, **kwargs):
            if not depth[0]:
                counts[name] = counts.get(name, 0) + 1
            depth[0] += 1
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
        return run

    for ns in (ttnn, ttnn.experimental, ttnn.transformer):
        for name in dir(ns):
            fn = getattr(ns, name, None)
            if isinstance(fn, types.FunctionType) and hasattr(fn, "__wrapped__"):  # the @per_chip device ops
                setattr(ns, name, counted(name, fn))
    return counts


def child_op_overhead(hf_id: str, prompt_len: int, decode_steps: int) -> dict:
    """Decode step time over emulated ops per step, at the real layer count with tiny widths (in a subprocess)."""
    import torch
    from transformers import AutoModelForCausalLM

    from ttbringup import backend
    from ttbringup.fixtures import real_config

    ttnn = backend.load("emu", announce=False)
    config = real_config(hf_id)
    config.update({"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2, "num_key_value_heads": 1,
                   "head_dim": 32, "vocab_size": 512})
    torch.manual_seed(0)
    hf = AutoModelForCausalLM.from_config(config).eval()
    prompt = torch.randint(0, 512, (1, prompt_len))
    device = ttnn.open_device(device_id=0)
    try:
        tt = load_bringup(hf_id).build_model(hf, device, 2048)
        counts = counting_ops(ttnn)
        with torch.no_grad():
            out = tt(prompt, use_cache=True)
            counts.clear()
            t0 = time.perf_counter()
            for tok in torch.randint(0, 512, (decode_steps,)).tolist():
                out = tt(torch.tensor([[tok]]), past_key_values=out.past_key_values, use_cache=True)
            step = (time.perf_counter() - t0) / decode_steps
    finally:
        ttnn.close_device(device)
    return {"step_s": step, "ops_per_step": sum(counts.values()) / decode_steps, "layers": config.num_hidden_layers}


def child_memory(hf_id: str, num_layers: int | None, prompt_len: int, max_seq_len: int) -> dict:
    """Peak RSS the emulated model adds, over its device bytes (runs inside a subprocess)."""
    import ctypes
    import gc

    import torch

    from ttbringup import backend
    from ttbringup.emu.memory import usage
    from ttbringup.evaluation.release import releasing_layers

    ttnn = backend.load("emu", announce=False)
    import transformers  # noqa: F401  libraries count as the baseline, not as the model
    bringup = load_bringup(hf_id)
    base = rss_bytes()
    device = ttnn.open_device(device_id=0)
    try:
        hf = random_hf_model(hf_id, torch.bfloat16, num_layers)
        with releasing_layers(hf):  # never the HF model and the emulated one whole at once
            tt = bringup.build_model(hf, device, max_seq_len)
        del hf
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand the freed HF weights back to the OS
        reset_peak_rss()
        prompt = torch.randint(0, tt.config.vocab_size, (1, prompt_len))
        run_steps(tt, prompt, [1, 2, 3])
        peak = rss_bytes("VmHWM")
        device_bytes = usage(device)[0]["dram"]["peak"] + usage(device)[0]["l1"]["peak"]
    finally:
        ttnn.close_device(device)
    return {"base_rss": base, "peak_rss": peak, "model_rss": peak - base, "device_bytes": device_bytes,
            "layers": num_layers}


def child_eval_7b(prompt_file: str, max_new_tokens: int) -> dict:
    """The whole ALLaM-7B n150 eval at real shape, as eval.py runs it: wall time and peak RSS (in a subprocess)."""
    from ttbringup.evaluation.cli import go_offline

    go_offline()
    from ttbringup.evaluation.pipeline import EvalRequest, run_eval
    from ttbringup.evaluation.prompts import read_text

    t0 = time.perf_counter()
    outcome = run_eval(EvalRequest(model_py=str(model_file("humain-ai/ALLaM-7B-Instruct-preview")),
                                   model="humain-ai/ALLaM-7B-Instruct-preview", prompt=read_text(prompt_file),
                                   prompt_length=141,  # no tokenizer offline: the text's bytes, cut to 141 ids
                                   max_new_tokens=max_new_tokens, max_seq_len=256, backend="emu",
                                   random_weights=True, progress=False))
    r = outcome.result
    return {"wall_s": time.perf_counter() - t0, "peak_rss": rss_bytes("VmHWM"), "seconds": outcome.seconds,
            "prompt_len": r.prompt_len, "scored": r.total, "top1": r.top1, "logits_pcc": r.logits_pcc,
            "reference_precision": outcome.reference_precision}


def busy_neighbour() -> subprocess.Popen:
    """A process that keeps one core busy (a plain Python loop) until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


class ChildFailed(RuntimeError):
    """A benchmark child exited non-zero; the message is its reason, on one line."""


def in_subprocess(func: str, *, neighbour: bool = False, **kwargs) -> dict:
    """Run ``child_<func>(**kwargs)`` in a fresh interpreter (next to a busy process when ``neighbour``)."""
    cmd = [sys.executable, __file__, "--child", func, "--kwargs", json.dumps(kwargs)]
    busy = busy_neighbour() if neighbour else None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TTBRINGUP_BACKEND": "emu"})
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        if proc.returncode == -9:
            reason = "killed by SIGKILL (the kernel's out-of-memory killer, most likely)"
        else:
            reason = f"exit {proc.returncode}: {lines[-1].strip() if lines else 'no message'}"
        raise ChildFailed(reason)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tokens, for a smoke run")
    parser.add_argument("--json", default=str(ROOT / "out" / "bench.json"))
    parser.add_argument("--readme", action="store_true", help="also write the table into README.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from ttbringup.emu.host_cpu import fit_threads

        fit_threads()  # as run_eval does: the contended row's child sees its busy neighbour here
        children = {"speed": child_speed, "memory": child_memory, "mesh_decode": child_mesh_decode,
                    "batch_decode": child_batch_decode, "card_decode": child_card_decode,
                    "op_overhead": child_op_overhead, "eval_7b": child_eval_7b}
        result = children[args.child](**json.loads(args.kwargs))
        print(json.dumps(result))
        return 0

    prompt, steps, long_prompt = (32, 4, 128) if args.quick else (128, 32, 1024)
    bench = Bench(Path(args.json))
    print(f"[bench] {machine_line()}", file=sys.stderr)

    speed = {}
    for hf_id in ("Qwen/Qwen3-0.6B", "meta-llama/Llama-3.2-1B"):
        r = bench.measure(f"teacher forcing {hf_id}", "speed", hf_id=hf_id, prompt_len=prompt, decode_steps=steps,
                          max_seq_len=2048)
        label = f"teacher forcing {prompt}+{steps} tokens, {hf_id}"
        if r is None:
            bench.failed(label, f"ratio <= {GOALS['tf_ratio']}")
            continue
        speed[hf_id] = r
        hf_total = r["hf_prefill_s"] + sum(r["hf_decode_s"])
        emu_total = r["emu_prefill_s"] + sum(r["emu_decode_s"])
        ratio = emu_total / hf_total
        bench.row(label, f"{emu_total:.2f} s", f"{hf_total:.2f} s", ratio, f"ratio <= {GOALS['tf_ratio']}",
                  ratio <= GOALS["tf_ratio"])
        if hf_id == "meta-llama/Llama-3.2-1B":
            emu_tok, hf_tok = statistics.median(r["emu_decode_s"]), statistics.median(r["hf_decode_s"])
            bench.row(f"decode latency per token (median), {hf_id}", f"{emu_tok:.3f} s", f"{hf_tok:.3f} s",
                      emu_tok / hf_tok, f"<= {GOALS['decode_s']} s", emu_tok <= GOALS["decode_s"])

    r = bench.measure(f"prefill {long_prompt}", "speed", hf_id="meta-llama/Llama-3.2-1B", prompt_len=long_prompt,
                      decode_steps=0, max_seq_len=2048)
    label = f"one-pass prefill {long_prompt} tokens, meta-llama/Llama-3.2-1B"
    if r is None:
        bench.failed(label, f"ratio <= {GOALS['prefill_ratio']}")
    else:
        ratio = r["emu_prefill_s"] / r["hf_prefill_s"]
        bench.row(label, f"{r['emu_prefill_s']:.2f} s", f"{r['hf_prefill_s']:.2f} s", ratio,
                  f"ratio <= {GOALS['prefill_ratio']}", ratio <= GOALS["prefill_ratio"])

    r = bench.measure("decode next to a busy process", "speed", neighbour=True, hf_id="meta-llama/Llama-3.2-1B",
                      prompt_len=prompt, decode_steps=max(steps // 2, 4), max_seq_len=2048)
    label = "decode per token next to a busy process (median), meta-llama/Llama-3.2-1B"
    goal = f"ratio <= {GOALS['contended_vs_idle']} x the idle ratio"
    idle = speed.get("meta-llama/Llama-3.2-1B")
    if r is None:
        bench.failed(label, goal)
    elif idle is None:
        bench.failed(label, goal, "the idle decode row failed")
    else:
        emu_tok, hf_tok = statistics.median(r["emu_decode_s"]), statistics.median(r["hf_decode_s"])
        idle_ratio = statistics.median(idle["emu_decode_s"]) / statistics.median(idle["hf_decode_s"])
        ratio = emu_tok / hf_tok
        bench.row(label, f"{emu_tok:.3f} s", f"{hf_tok:.3f} s", ratio, goal + f" ({idle_ratio:.2f})",
                  ratio <= GOALS["contended_vs_idle"] * idle_ratio)

    for hf_id, layers in (("Qwen/Qwen3-0.6B", None), ("arcee-ai/AFM-4.5B", 4 if args.quick else None)):
        label = f"host RSS / emulated device bytes, {hf_id}" + (f" (first {layers} layers)" if layers else "")
        m = bench.measure(f"host memory {hf_id}", "memory", hf_id=hf_id, num_layers=layers, prompt_len=prompt,
                          max_seq_len=2048)
        if m is None:
            bench.failed(label, f"ratio <= {GOALS['rss_ratio']}")
            continue
        ratio = m["model_rss"] / m["device_bytes"]
        bench.row(label, f"{m['model_rss'] / 2**30:.2f} GiB", f"{m['device_bytes'] / 2**30:.2f} GiB (device)", ratio,
                  f"ratio <= {GOALS['rss_ratio']}", ratio <= GOALS["rss_ratio"])

    m = bench.measure("mesh decode", "mesh_decode", hf_id="meta-llama/Llama-3.2-1B", system="t3000",
                      prompt_len=prompt, decode_steps=max(steps // 2, 4))
    label = "decode per token, meta-llama/Llama-3.2-1B on an emulated T3000 (2x4) vs on n150"
    if m is None:
        bench.failed(label, f"ratio <= {GOALS['mesh_ratio']}")
    else:
        mesh_tok, one_tok = statistics.median(m["mesh_decode_s"][1:]), statistics.median(m["n150_decode_s"][1:])
        bench.row(label, f"{mesh_tok:.3f} s", f"{one_tok:.3f} s (n150)", mesh_tok / one_tok,
                  f"ratio <= {GOALS['mesh_ratio']}", mesh_tok / one_tok <= GOALS["mesh_ratio"])

    b = bench.measure("batched and traced decode", "batch_decode", hf_id="meta-llama/Llama-3.2-1B",
                      prompt_len=prompt, decode_steps=max(steps // 4, 4))
    for label, key, ref_key, ref_name, goal in (
            ("decode step, 32 users vs 1, meta-llama/Llama-3.2-1B (eager)", "b32_eager_s", "b1_eager_s", "batch 1",
             "batch_ratio"),
            ("decode step, traced replay vs eager, meta-llama/Llama-3.2-1B (batch 1)", "b1_traced_s", "b1_eager_s",
             "eager", "trace_ratio"),
            ("decode step, traced replay vs eager, meta-llama/Llama-3.2-1B (batch 32)", "b32_traced_s", "b32_eager_s",
             "eager", "trace_ratio")):
        if b is None:
            bench.failed(label, f"ratio <= {GOALS[goal]}")
            continue
        ours, ref = statistics.median(b[key]), statistics.median(b[ref_key])
        bench.row(label, f"{ours:.3f} s", f"{ref:.3f} s ({ref_name})", ours / ref, f"ratio <= {GOALS[goal]}",
                  ours / ref <= GOALS[goal])

    c = bench.measure("card numerics decode", "card_decode", hf_id="meta-llama/Llama-3.2-1B", num_layers=None,
                      prompt_len=8, decode_steps=max(steps // 4, 4))
    label = "decode step, card numerics vs exact, meta-llama/Llama-3.2-1B (batch 1)"
    if c is None:
        bench.failed(label, f"ratio <= {GOALS['card_ratio']}")
    else:
        card, exact = statistics.median(c["card_decode_s"]), statistics.median(c["exact_decode_s"])
        bench.row(label, f"{card:.3f} s", f"{exact:.3f} s (exact)", card / exact, f"ratio <= {GOALS['card_ratio']}",
                  card / exact <= GOALS["card_ratio"])

    o = bench.measure("per-op host time", "op_overhead", hf_id="meta-llama/Llama-3.2-1B", prompt_len=prompt,
                      decode_steps=steps)
    label = "host time per emulated op in decode, meta-llama/Llama-3.2-1B layers and ops, widths shrunk to 64"
    goal = f"<= {GOALS['op_overhead_us']} us"
    if o is None:
        bench.failed(label, goal)
    else:
        per_op = o["step_s"] / o["ops_per_step"] * 1e6
        bench.row(label, f"{per_op:.0f} us ({o['ops_per_step']:.0f} ops per token)", "-",
                  per_op / GOALS["op_overhead_us"], goal, per_op <= GOALS["op_overhead_us"])

    if not args.quick:
        from ttbringup.evaluation.prompts import LONG_PROMPT_FILE

        e = bench.measure("ALLaM-7B eval", "eval_7b", prompt_file=str(LONG_PROMPT_FILE), max_new_tokens=20)
        label = "whole eval, humain-ai/ALLaM-7B-Instruct-preview n150, real shape (random weights), 141 + 20 tokens"
        goal = f"<= {GOALS['eval_7b_s'] / 60:.0f} min, <= {GOALS['eval_7b_rss'] / 1e9:.0f} GB"
        if e is None:
            bench.failed(label, goal)
        else:
            bench.row(label, f"{e['wall_s'] / 60:.1f} min, peak RSS {e['peak_rss'] / 1e9:.1f} GB",
                      f"reference: {e['reference_precision']}", e["wall_s"] / GOALS["eval_7b_s"], goal,
                      e["wall_s"] <= GOALS["eval_7b_s"] and e["peak_rss"] <= GOALS["eval_7b_rss"])

    table = ["| figure | emulator | HF reference | ratio | goal | |", "|---|---:|---:|---:|---|---|"]
    table += [f"| {r['figure']} | {r['emulator']} | {r['reference']} | "
              + ("" if r["ratio"] is None else f"{r['ratio']:.2f}") + f" | {r['goal']} | {r['verdict']} |"
              for r in bench.rows]
    pccs = ", ".join(f"{hf_id} {r['logits_pcc']:.4f}" for hf_id, r in speed.items())
    notes = [f"Measured {time.strftime('%Y-%m-%d')} in {time.perf_counter() - bench.started:.0f} s; "
             f"{machine_line()}. Reference: HF transformers float32 on the CPU, same process, same inputs; for "
             "memory, the device bytes the emulator charged (peak DRAM + L1).",
             f"Sanity: last-position logits PCC, emulator vs HF, over the timed teacher-forcing runs: {pccs}."]
    text = "\n".join(table) + "\n\n" + "\n\n".join(notes)
    print("\n" + text)
    if args.readme:
        write_readme_table(text)
    return 0


class Bench:
    """The rows measured so far; each is printed and the JSON file rewritten as soon as it is added."""

    def __init__(self, json_path: Path):
        self.json_path = json_path
        self.rows: list[dict] = []
        self.raw: dict = {}
        self.last_failure = ""
        self.started = time.perf_counter()

    def measure(self, what: str, func: str, **kwargs) -> dict | None:
        """The child's result, or None after recording why it failed."""
        print(f"[bench] {what} ...", file=sys.stderr)
        try:
            result = in_subprocess(func, **kwargs)
        except ChildFailed as err:
            self.raw[what] = {"failed": str(err)}
            self.last_failure = str(err)
            return None
        self.raw[what] = result
        return result

    def row(self, label, ours, ref, ratio, goal, met) -> None:
        self._add({"figure": label, "emulator": ours, "reference": ref, "ratio": round(ratio, 3), "goal": goal,
                   "verdict": "meets" if met else "misses"})

    def failed(self, label, goal, reason: str | None = None) -> None:
        reason = reason or self.last_failure
        self._add({"figure": label, "emulator": f"failed: {reason}", "reference": "", "ratio": None, "goal": goal,
                   "verdict": "failed"})

    def _add(self, row: dict) -> None:
        self.rows.append(row)
        print(f"[bench] {row['figure']}: {row['emulator']} vs {row['reference']}, ratio {row['ratio']} "
              f"({row['goal']}): {row['verdict']}", file=sys.stderr, flush=True)
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(json.dumps({"machine": machine_line(), "rows": self.rows, "raw": self.raw},
                                             indent=1))


def machine_line() -> str:
    from ttbringup.emu import host_cpu

    return (f"{os.cpu_count()} cores, torch {torch_version()} with {torch_threads()} threads, "
            f"{host_cpu.describe()}")


def torch_version() -> str:
    import torch

    return torch.__version__


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def write_readme_table(text: str) -> None:
    """Replace the table between the bench-table markers of README.md."""
    readme = ROOT / "README.md"
    begin, end = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
    doc = readme.read_text()
    head, rest = doc.split(begin, 1)
    readme.write_text(head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1])
    print(f"[bench] updated {readme.name}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
