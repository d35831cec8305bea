"""``eval.py MODEL_PY``: teacher-forcing accuracy of a bringup against the HF reference.

Prints the compared setup, ``Top-1 accuracy: 99.00% (0.9900)``, ``Top-5 accuracy: ...``, the
logits PCC and the first position where top-1 disagrees; ``--json PATH`` writes all of it (on the emulator also
``device_time_estimate``: the device-time model's TTFT and tokens/s/user for this run on the card).
``--numerics card`` scores the emulator's card-numerics mode; ``--numerics both`` scores exact and card mode on
one build and adds a side-by-side table (the headline lines are then exact mode's).
Exit 0 after a completed eval (whatever the accuracy), 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys

from ..cli import CliError, check_positive, check_writable, cli_errors, go_offline
from ..numerics import add_numerics_arg, requested
from .common import add_model_args, resolve_model, summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eval.py", description=summary(__doc__))
    add_model_args(p)
    prompt = p.add_argument_group("prompt (default: prompts/bringup_eval_long.txt)")
    prompt.add_argument("--prompt", default=None, help="prompt text")
    prompt.add_argument("--prompt_file", default=None, help="file holding the prompt text")
    prompt.add_argument("--prompt_ids_file", default=None,
                        help="file of prompt token ids (whitespace/comma separated, or a JSON list)")
    p.add_argument("--max_new_tokens", type=int, default=20, help="reference tokens to generate and score (default 20)")
    p.add_argument("--min_new_tokens", type=int, default=None,
                   help="the reference may stop at EOS after this many tokens (default: never stop early)")
    p.add_argument("--prefill_decode", "--prefill-decode", dest="prefill_decode", action="store_true",
                   help="prefill the prompt token by token instead of in one pass")
    p.add_argument("--trace", action="store_true",
                   help="replay the decode steps as a metal trace (captured after one eager step)")
    p.add_argument("--json", metavar="PATH", default=None, help="write the full result as JSON")
    add_numerics_arg(p)
    return p


def request_from_args(args, both: bool = True):
    """Validate ``args`` (cheap checks only) and build the :class:`EvalRequest`; ``both``: the tool accepts
    ``--numerics both``."""
    from ..pipeline import EvalRequest, validate
    from ..prompts import LONG_PROMPT_FILE, parse_token_ids, read_text

    given = [name for name in ("prompt", "prompt_file", "prompt_ids_file") if getattr(args, name) is not None]
    if len(given) > 1:
        raise CliError("give only one of " + ", ".join("--" + g for g in given))
    check_positive("--max_new_tokens", args.max_new_tokens)
    req = EvalRequest(model_py=args.model_py, model="", max_new_tokens=args.max_new_tokens,
                      min_new_tokens=args.min_new_tokens, max_seq_len=args.max_seq_len,
                      prefill_decode=args.prefill_decode, trace=args.trace, device_id=args.device_id, seed=args.seed,
                      cache_dir=args.cache_dir, backend=args.backend, random_weights=args.random_weights,
                      numerics=requested(args.numerics, both))
    validate(req)
    req.model = resolve_model(args.model_py, args.model)
    if getattr(args, "json", None):
        check_writable(args.json, "--json")
    if args.prompt_ids_file is not None:
        req.prompt_ids = parse_token_ids(read_text(args.prompt_ids_file, "prompt ids file"), args.prompt_ids_file)
    elif args.prompt_file is not None:
        req.prompt = read_text(args.prompt_file)
    elif args.prompt is not None:
        req.prompt = args.prompt
    elif LONG_PROMPT_FILE.is_file():
        req.prompt = read_text(LONG_PROMPT_FILE)
    return req


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with cli_errors():
        req = request_from_args(args)
        go_offline()
        from ..pipeline import run_eval
        from ..report import human_lines, to_json, write_json

        outcome = run_eval(req)
        for line in human_lines(outcome):
            print(line)
        if args.json:
            data = to_json(outcome)
            if outcome.backend == "emu":  # new key only: the device-time model's prediction of this run on the card
                from ..device_time_estimate import estimate, estimate_line

                data["device_time_estimate"] = estimate(
                    req.model_py, req.model, prompt_len=outcome.result.prompt_len, trace=req.trace,
                    max_seq_len=req.max_seq_len, cache_dir=req.cache_dir)
                print(estimate_line(data["device_time_estimate"]))
            write_json(args.json, data)
            print(f"wrote {args.json}", file=sys.stderr)
    return 0
