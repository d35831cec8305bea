"""``demo.py MODEL_PY``: greedy text generation on the bringup with TTFT and decode tokens/s/user.

``--batch N`` decodes N users (up to 32, the prompt for each); ``--table`` times batch 1 and 32, eager and
traced, on one build and prints TTFT, tokens/s/user and tokens/s for each. On the emulator the numbers are
labelled "emulator wall time": they measure the torch emulation on this host, not a Tenstorrent card. Next to them
the emulator prints the device-time model's prediction for the same run on the card (``device_time_estimate``).
``--numerics exact|card`` picks the emulator's numerics (default ``$TTBRINGUP_NUMERICS``, else exact).
"""

from __future__ import annotations

import argparse
import sys

from ..cli import CliError, cli_errors, go_offline
from ..numerics import add_numerics_arg, apply
from ..device_time_estimate import estimate_line
from .common import add_model_args, summary
from .eval import request_from_args


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="demo.py", description=summary(__doc__))
    add_model_args(p)
    p.add_argument("--prompt", default=None, help="prompt text (default: prompts/bringup_eval_long.txt)")
    p.add_argument("--prompt_file", default=None, help="file holding the prompt text")
    p.add_argument("--prompt_ids_file", default=None, help="file of prompt token ids")
    p.add_argument("--max_new_tokens", type=int, default=32, help="tokens to generate (default 32)")
    p.add_argument("--prefill_decode", "--prefill-decode", dest="prefill_decode", action="store_true",
                   help="prefill the prompt token by token")
    p.add_argument("--trace", action="store_true",
                   help="replay the decode steps as a metal trace (captured after one eager step)")
    p.add_argument("--batch", type=int, default=1, help="users decoding the prompt together (1-32, default 1)")
    p.add_argument("--table", action="store_true",
                   help="time batch 1 and 32, eager and traced, and print the table (implies a trace region)")
    p.add_argument("--json", metavar="PATH", default=None, help="write text and timings as JSON")
    add_numerics_arg(p, both=False)
    return p


MAX_BATCH = 32  # users of one decode batch


def table(runs: list[tuple[str, object]], backend: str) -> str:
    """The batch / trace speed table, one line per run."""
    label = " (emulator wall time)" if backend == "emu" else ""
    lines = [f"| batch | decode | TTFT ms | tokens/s/user | tokens/s | users agree |{label}",
             "|---:|---|---:|---:|---:|---|"]
    for mode, gen in runs:
        per_user = "n/a" if gen.decode_tokens_per_second is None else f"{gen.decode_tokens_per_second:.2f}"
        total = "n/a" if gen.tokens_per_second is None else f"{gen.tokens_per_second:.2f}"
        lines.append(f"| {gen.batch} | {mode} | {gen.ttft_seconds * 1000:.1f} | {per_user} | {total} | "
                     f"{'yes' if gen.users_agree else 'NO'} |")
    return "\n".join(lines)


def speed_line(gen, backend: str) -> str:
    """``TTFT: 812.3 ms | decode: 4.21 tokens/s/user (31 tokens) [emulator wall time]``."""
    rate = "n/a" if gen.decode_tokens_per_second is None else f"{gen.decode_tokens_per_second:.2f}"
    label = " [emulator wall time]" if backend == "emu" else ""
    return (f"TTFT: {gen.ttft_seconds * 1000:.1f} ms | decode: {rate} tokens/s/user "
            f"({max(len(gen.new_ids) - 1, 0)} tokens){label}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.min_new_tokens = None
    with cli_errors():
        if not 1 <= args.batch <= MAX_BATCH:
            raise CliError(f"--batch {args.batch} is out of range: a decode batch holds 1 to {MAX_BATCH} users")
        if args.table:
            args.trace = True  # the device needs a trace region for the traced rows
        req = request_from_args(args, both=False)
        go_offline()
        from ..generation import timed_generate
        from ..pipeline import built_bringup, load, numerics_modes
        from ..report import write_json

        apply(req.numerics[0])
        loaded = load(req)
        numerics = numerics_modes(req, loaded.backend)[0]
        eos = loaded.ref.model.generation_config.eos_token_id
        pad = loaded.ref.model.generation_config.pad_token_id
        pad = pad if pad is not None else (eos[0] if isinstance(eos, list) else eos)
        with built_bringup(loaded) as tt_model:
            if args.prefill_decode:
                tt_model.prefill_by_decode = True
            if args.table:
                runs = table_runs(tt_model, loaded.prompt_ids, req.max_new_tokens, pad)
                gen = runs[0][1]
            else:
                gen = timed_generate(tt_model, loaded.prompt_ids, req.max_new_tokens, pad, batch=args.batch)
            traced = bool(getattr(tt_model, "decode_traced", False))
        text = loaded.tokenizer.decode(gen.new_ids) if loaded.tokenizer is not None else str(gen.new_ids)
        print(f"Bringup: {req.model_py} | model: {req.model} | backend: {loaded.backend} | numerics: {numerics}")
        print(f"Prompt tokens: {len(loaded.prompt_ids)} | generated: {len(gen.new_ids)} (greedy)")
        print("--- generated text ---")
        print(text)
        print("----------------------")
        if args.table:
            print(table(runs, loaded.backend))
        else:
            batch = f" | batch {gen.batch}: {gen.tokens_per_second or 0:.2f} tokens/s" if gen.batch > 1 else ""
            print(speed_line(gen, loaded.backend) + batch + (" | decode traced" if traced else ""))
        estimate = device_time_estimate(req, loaded, gen.batch, args.trace)
        if estimate is not None:
            print(estimate_line(estimate))
        if not gen.users_agree or (args.table and not all(g.users_agree for _, g in runs)):
            print("warning: the users of one batch generated different tokens from the same prompt",
                  file=sys.stderr)
        if args.json:
            extra = {"table": [{"decode": mode, **g.to_dict()} for mode, g in runs]} if args.table else {}
            if estimate is not None:
                extra["device_time_estimate"] = estimate
            write_json(args.json, {"text": text, "backend": loaded.backend, "numerics": numerics,
                                   "decode_traced": traced,
                                   **gen.to_dict(), **extra})
            print(f"wrote {args.json}", file=sys.stderr)
    return 0


def device_time_estimate(req, loaded, batch: int, trace: bool) -> dict | None:
    """The device-time model's prediction for this run on the card (emulator only; None on a card)."""
    if loaded.backend != "emu":
        return None
    from ..device_time_estimate import estimate

    return estimate(req.model_py, req.model, prompt_len=len(loaded.prompt_ids), batch=batch, trace=trace,
                    max_seq_len=req.max_seq_len, cache_dir=req.cache_dir)


def table_runs(tt_model, prompt_ids, max_new_tokens: int, pad) -> list:
    """Generate at batch 1 and 32, eager and traced, on one build: ``[(mode, Generation), ...]``."""
    from ..generation import timed_generate

    traceable = hasattr(tt_model, "trace_decode")
    timed_generate(tt_model, prompt_ids, 2, pad)  # warm-up: the first run's one-time costs stay out of the table
    runs = []
    for batch in (1, MAX_BATCH):
        for traced in ((False, True) if traceable else (False,)):
            if traceable:
                tt_model.trace_decode = traced
            gen = timed_generate(tt_model, prompt_ids, max_new_tokens, pad, batch=batch)
            mode = "traced" if traceable and tt_model.decode_traced else "eager"
            if traceable:
                tt_model.release_trace()
            runs.append((mode, gen))
    return runs
