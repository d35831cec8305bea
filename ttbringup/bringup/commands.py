"""``ttbringup fit`` and ``ttbringup new`` (also ``python -m ttbringup``): the command-line front ends.

    ttbringup fit <hf_id | config.json | dir> [--system n150|n300|t3000] [--weights bf16|bfp8|bfp4] [--prompt-len N]
    ttbringup new <hf_id | config.json | dir> --system n150|n300|t3000 [--force] [--models-dir DIR] [--name ORG/MODEL]

Bad input (unreadable config, unknown system, an architecture the blocks do not cover, an existing bringup without
``--force``) ends as one ``error: ...`` line and exit 2.
"""

from __future__ import annotations

import argparse
import re

from ttbringup.evaluation.cli import CliError, check_positive, cli_errors

SYSTEMS = ("n150", "n300", "t3000")
WEIGHTS = ("bf16", "bfp8", "bfp4")


def _parser_fit(sub) -> None:
    p = sub.add_parser("fit", help="memory plan and the largest cache per weights dtype (data-free, emulated)")
    p.add_argument("model", metavar="MODEL", help="HF id (HF cache or bundled config), config.json, or a directory")
    p.add_argument("--system", choices=SYSTEMS, default="n150")
    p.add_argument("--weights", choices=WEIGHTS, default=None, help="one weights dtype (default: all three)")
    p.add_argument("--prompt-len", "--prompt_len", dest="prompt_len", type=int, default=None,
                   help="prefill length of the activation peak (default: the whole cache, cache length - 1)")
    p.add_argument("--cache-dir", "--cache_dir", dest="cache_dir", default=None, help="HF cache directory")


def _parser_new(sub) -> None:
    p = sub.add_parser("new", help="generate model.py + MODEL_BRINGUP.md from the fit, check it on a tiny checkpoint")
    p.add_argument("model", metavar="MODEL", help="HF id (HF cache or bundled config), config.json, or a directory")
    p.add_argument("--system", choices=SYSTEMS, required=True)
    p.add_argument("--force", action="store_true", help="replace an existing bringup")
    p.add_argument("--models-dir", "--models_dir", dest="models_dir", default=None,
                   help="where models/<org>/<model>/ go (default: the repository's models/)")
    p.add_argument("--name", default=None, help="ORG/MODEL to file it under when the config does not say")
    p.add_argument("--cache-dir", "--cache_dir", dest="cache_dir", default=None, help="HF cache directory")


def _setup():
    """The emulator as ``ttnn`` (the plans are its allocator's) and one torch thread (see COMMON_TRAPS)."""
    from ttbringup import backend

    backend.load("emu", announce=False)
    import torch

    torch.set_num_threads(1)


def run_fit(args) -> int:
    check_positive("--prompt-len", args.prompt_len)
    from .configs import read_config

    source = read_config(args.model, args.cache_dir)
    _setup()
    from .architectures import architecture_of, build_flags
    from .fit import MARGIN, fit, recommend, render_table
    from .memory import DRAM_CAPACITY

    arch = architecture_of(source.config)
    flags, weights = build_flags(arch, source.config), (args.weights,) if args.weights else WEIGHTS
    results = fit(source.config, args.system, flags, weights, args.prompt_len)
    replicated = [] if args.system == "n150" else fit(source.config, args.system, flags, weights, args.prompt_len,
                                                      data_parallel=True)
    prefill = f"{args.prompt_len}-token prefill" if args.prompt_len else "prefill of cache length - 1 tokens"
    print(f"{source.name or args.model} on {args.system} ({source.source}; model_type {source.config.model_type}): "
          f"per chip of {DRAM_CAPACITY:,} B DRAM, {prefill} + 1 decode step, emulated data-free; fits = no "
          f"out-of-memory and >= {MARGIN / 1e9:.0f} GB headroom\n")
    print(render_table(results + replicated))
    best = recommend(results, source.config)
    print()
    if best is None:
        print(f"nothing fits on {args.system}" + ("" if args.system == "t3000" else "; try a larger --system"))
        return 1
    print(f"recommended: {best.choice.name} weights, {best.cache_len}-token cache (`ttbringup new` picks this)")
    return 0


def run_new(args) -> int:
    from .configs import read_config

    source = read_config(args.model, args.cache_dir)
    name = args.name or source.name
    if not name:
        raise CliError(f"cannot tell which org/model {args.model} is; pass --name ORG/MODEL")
    parts = name.split("/")
    if len(parts) != 2 or any(p in ("", ".", "..") or not re.fullmatch(r"[\w.-]+", p) for p in parts):
        raise CliError(f"--name {name!r} is not ORG/MODEL (letters, digits, '.', '-', '_')")
    _setup()
    from .generate import bringup_dir
    from .new import new_bringup

    out = bringup_dir(name, args.system, args.models_dir)
    existing = [p.name for p in (out / "model.py", out / "MODEL_BRINGUP.md") if p.exists()]
    if existing and not args.force:
        raise CliError(f"{out} already has {' and '.join(existing)}; pass --force to replace it")

    return new_bringup(source, name, args.system, out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="ttbringup", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _parser_fit(sub)
    _parser_new(sub)
    args = parser.parse_args(argv)
    with cli_errors():
        return run_fit(args) if args.command == "fit" else run_new(args)

