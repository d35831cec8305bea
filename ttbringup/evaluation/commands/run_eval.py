"""``scripts/run_eval.py``: the automation wrapper; prints exactly one ``YT_METRICS={json}`` line.

``--mode tt`` teacher-forces ``models/<hf-model>/<system>/functional/model.py`` against the HF
reference; ``--mode hf`` scores the HF model against itself (the sanity baseline: 100%). The
prompt is exactly ``--prefill-len`` tokens of prompts/bringup_eval_long.txt (repeated, then cut);
``--decode-len`` tokens are scored. Prompts longer than 512 tokens are prefilled token by token.

stdout carries only the metrics line (anything a bringup prints goes to stderr). ``--trace 1``
is accepted and recorded; the eval itself runs without trace capture (and the emulator has no
trace), which the metrics say as ``trace_used: false``.

``--numerics exact|card|both`` (default ``$TTBRINGUP_NUMERICS``, else exact): the metrics' ``numerics`` key says
which ran and ``by_numerics`` holds each mode's top1 / top5 / logits_pcc / first_mismatch; the other keys are
unchanged and carry the first mode's scores (exact for ``both``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

from ..cli import CliError, check_positive, cli_errors, go_offline
from ..loading import SYSTEMS
from ..numerics import add_numerics_arg, requested
from .common import add_backend_args, summary

PREFILL_BY_DECODE_ABOVE = 512
METRICS_PREFIX = "YT_METRICS="


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_eval.py", description=summary(__doc__))
    p.add_argument("--mode", choices=("hf", "tt"), default="tt", help="tt: the bringup; hf: HF against itself")
    p.add_argument("--hf-model", required=True, help="HF id: the reference and models/<hf-model>/ (or a local "
                                                   "checkpoint dir with --model-file)")
    p.add_argument("--system", default=os.environ.get("YT_SYSTEM") or "n150",
                   help=f"one of {', '.join(SYSTEMS)} (default: $YT_SYSTEM, else n150)")
    p.add_argument("--prefill-len", type=int, default=20, help="prompt tokens (default 20)")
    p.add_argument("--decode-len", type=int, default=20, help="scored tokens (default 20)")
    p.add_argument("--batch", type=int, default=1, help="users; only 1 is supported")
    p.add_argument("--trace", type=int, choices=(0, 1), default=0,
                   help="1: replay the decode steps as a metal trace (captured after one eager step)")
    p.add_argument("--prefill-decode", action="store_true", help="prefill token by token (forced above 512 tokens)")
    p.add_argument("--cache-dir", default=None, help="HF cache directory")
    p.add_argument("--max-seq-len", type=int, default=None,
                   help="tokens the bringup must hold (default: 2048, or more when the run needs it)")
    p.add_argument("--device-id", type=int, default=0)
    p.add_argument("--models-dir", default=None, help="where models/<hf-model>/ live (default: the repo's models/)")
    p.add_argument("--model-file", default=None, help="a model.py to use instead of the one under --models-dir")
    p.add_argument("--prompt-file", default=None, help="prompt text (default: prompts/bringup_eval_long.txt)")
    add_backend_args(p)
    add_numerics_arg(p)
    return p


def _request(args):
    from ..loading import check_model_file, seed_model_file
    from ..pipeline import EvalRequest, validate
    from ..prompts import LONG_PROMPT_FILE, read_text

    numerics = requested(args.numerics)
    if args.system not in SYSTEMS:
        raise CliError(f"unknown system {args.system!r}; choose one of {', '.join(SYSTEMS)}")
    if args.batch != 1:
        raise CliError(f"--batch {args.batch} is not supported; only --batch 1 is")
    check_positive("--prefill-len", args.prefill_len)
    check_positive("--decode-len", args.decode_len)
    model_py = None
    if args.mode == "tt":
        if args.model_file:
            model_py = str(check_model_file(args.model_file))
        else:
            model_py = str(seed_model_file(args.hf_model, args.system, args.models_dir))
    needed = args.prefill_len + args.decode_len
    max_seq_len = args.max_seq_len or max(2048, -(-needed // 128) * 128)
    req = EvalRequest(model_py=model_py, model=args.hf_model, prompt_length=args.prefill_len,
                      max_new_tokens=args.decode_len, max_seq_len=max_seq_len,
                      prefill_decode=args.prefill_decode or args.prefill_len > PREFILL_BY_DECODE_ABOVE,
                      trace=bool(args.trace) and args.mode == "tt", device_id=args.device_id, seed=args.seed,
                      cache_dir=args.cache_dir, backend=args.backend, random_weights=args.random_weights,
                      numerics=numerics)
    validate(req)
    req.prompt = read_text(args.prompt_file or LONG_PROMPT_FILE)
    return req


def metrics(args, outcome) -> dict:
    """The YT_METRICS document."""
    r = outcome.result
    pcc = r.logits_pcc
    return {
        "mode": args.mode, "model": args.hf_model, "system": args.system, "backend": outcome.backend,
        "trace": args.trace, "trace_used": outcome.decode_traced, "batch": args.batch,
        "prefill_len": r.prompt_len, "decode_len": args.decode_len, "total": r.total,
        "top1": round(r.top1, 6), "top5": round(r.top5, 6),
        "logits_pcc": None if pcc != pcc else round(pcc, 6), "first_mismatch": r.first_mismatch,
        "prefill_decode": r.prefill_by_decode, "random_weights": args.random_weights,
        "seconds": {k: round(v, 3) for k, v in outcome.seconds.items()},
        "numerics": outcome.numerics,
        "by_numerics": {key: {"top1": round(m.top1, 6), "top5": round(m.top5, 6),
                              "logits_pcc": None if m.logits_pcc != m.logits_pcc else round(m.logits_pcc, 6),
                              "first_mismatch": m.first_mismatch} for key, m in outcome.by_numerics.items()},
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stdout = sys.stdout
    with cli_errors(), contextlib.redirect_stdout(sys.stderr):
        req = _request(args)
        if args.trace:
            print("[run_eval] --trace 1 recorded; this eval runs without trace capture"
                  " (the emulator has no trace)", file=sys.stderr)
        go_offline()
        from ..pipeline import run_eval
        from ..report import human_lines

        outcome = run_eval(req)
        for line in human_lines(outcome):
            print(line, file=sys.stderr)
        line = METRICS_PREFIX + json.dumps(metrics(args, outcome), sort_keys=True)
    print(line, file=stdout, flush=True)
    return 0
