"""``demo.py MODEL_PY``: greedy text generation on the bringup with TTFT and decode tokens/s/user.

On the emulator the numbers are labelled "emulator wall time": they measure the torch emulation
on this host, not a Tenstorrent card.
"""

from __future__ import annotations

import argparse
import sys

from ..cli import cli_errors, go_offline
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
    p.add_argument("--json", metavar="PATH", default=None, help="write text and timings as JSON")
    return p


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
        req = request_from_args(args)
        go_offline()
        from ..generation import timed_generate
        from ..pipeline import built_bringup, load
        from ..report import write_json

        loaded = load(req)
        eos = loaded.ref.model.generation_config.eos_token_id
        pad = loaded.ref.model.generation_config.pad_token_id
        pad = pad if pad is not None else (eos[0] if isinstance(eos, list) else eos)
        with built_bringup(loaded) as tt_model:
            if args.prefill_decode:
                tt_model.prefill_by_decode = True
            gen = timed_generate(tt_model, loaded.prompt_ids, req.max_new_tokens, pad)
            traced = bool(getattr(tt_model, "decode_traced", False))
        text = loaded.tokenizer.decode(gen.new_ids) if loaded.tokenizer is not None else str(gen.new_ids)
        print(f"Bringup: {req.model_py} | model: {req.model} | backend: {loaded.backend}")
        print(f"Prompt tokens: {len(loaded.prompt_ids)} | generated: {len(gen.new_ids)} (greedy)")
        print("--- generated text ---")
        print(text)
        print("----------------------")
        print(speed_line(gen, loaded.backend) + (" | decode traced" if traced else ""))
        if args.json:
            write_json(args.json, {"text": text, "backend": loaded.backend, "decode_traced": traced,
                                   **gen.to_dict()})
            print(f"wrote {args.json}", file=sys.stderr)
    return 0
