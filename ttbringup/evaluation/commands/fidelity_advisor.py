"""``scripts/fidelity_advisor.py MODEL_PY``: accuracy and device bytes of per-op-class weight dtypes and compute
configs (LoFi / HiFi2 / HiFi4, fp32 accumulation off / on, bf16 / bfp8 / bfp4 weights for attention and MLP; the
SDPA's fidelity and accumulation), measured in the emulator's card-numerics mode against the HF reference.

Prints one table row per setting (exact and card mode of the model file's own configuration first, then each
class varied on its own) and, per class, the cheapest setting that keeps the file configuration's card-mode top-1
and top-5. ``--write`` puts the table into the "Card numerics" section of the MODEL_BRINGUP.md beside MODEL_PY;
``--json PATH`` writes every number. Emulator only. Exit 0 after the table, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import CliError, check_writable, cli_errors, go_offline
from .common import add_model_args, summary
from .eval import request_from_args

BEGIN = "<!-- card-numerics:begin (scripts/fidelity_advisor.py --write) -->"
END = "<!-- card-numerics:end -->"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fidelity_advisor.py", description=summary(__doc__))
    add_model_args(p)
    p.add_argument("--prompt", default=None, help="prompt text (default: prompts/bringup_eval_long.txt)")
    p.add_argument("--prompt_file", default=None, help="file holding the prompt text")
    p.add_argument("--prompt_ids_file", default=None, help="file of prompt token ids")
    p.add_argument("--max_new_tokens", type=int, default=100, help="reference tokens to score per row (default 100)")
    p.add_argument("--classes", nargs="+", default=None, metavar="CLASS",
                   help="op classes to vary: attention, mlp, sdpa (default: all three)")
    p.add_argument("--write", action="store_true",
                   help="write the table into the Card numerics section of MODEL_PY's MODEL_BRINGUP.md")
    p.add_argument("--json", metavar="PATH", default=None, help="write every row as JSON")
    return p


def section_text(advice, command: str) -> str:
    from ..advisor import markdown

    return (f"Measured by `{command}`: the model file on the emulator against the bundled tiny trained checkpoint "
            f"`{advice.model}` (HF reference in float32), {advice.prompt_len} prompt tokens "
            f"(prompts/bringup_eval_long.txt), {advice.scored} greedy reference tokens scored by teacher forcing. "
            "Row 1 is exact mode (float32, the emulator's upper bound), row 2 card mode (ops compute like a Wormhole "
            "Tensix, docs/card-numerics.md) with the file's own configuration; the other rows vary one op class. "
            "The loss is not a bound either way: the ops card mode does not model (docs/card-numerics.md) make it "
            "optimistic, and the rounding of the bf16 partials its matmuls add in L1 between K blocks is ttsim's "
            "(to nearest even), which is not settled: the alternative moves a bf16 matmul's error by up to 1.5x "
            "either way (measured there, \"K blocking\"). Weight bytes count the attention and MLP projections "
            "only.\n\n"
            + markdown(advice))


def write_section(bringup_md: Path, text: str) -> None:
    """Replace the text between the markers of ``bringup_md``; without them, add a "Card numerics" section before
    its "## Reproduce" section (or at the end)."""
    doc = bringup_md.read_text()
    if BEGIN in doc and END in doc:
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        doc = doc[:start] + "\n" + text + "\n" + doc[end:]
    else:
        section = f"## Card numerics\n\n{BEGIN}\n{text}\n{END}\n"
        at = doc.find("\n## Reproduce")
        doc = doc.rstrip("\n") + "\n\n" + section if at < 0 else doc[:at + 1] + section + "\n" + doc[at + 1:]
    bringup_md.write_text(doc)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.min_new_tokens, args.prefill_decode, args.trace, args.numerics = None, False, False, "both"
    with cli_errors():
        from ..advisor import CLASSES

        classes = tuple(args.classes or CLASSES)
        unknown = [c for c in classes if c not in CLASSES]
        if unknown or len(set(classes)) != len(classes):
            raise CliError(f"--classes takes distinct names among {', '.join(CLASSES)} (got {' '.join(classes)})")
        req = request_from_args(args)
        bringup_md = Path(req.model_py).parent / "MODEL_BRINGUP.md"
        if args.write:
            check_writable(bringup_md, "MODEL_BRINGUP.md")
        go_offline()
        from ..advisor import advise, markdown, to_json
        from ..report import write_json

        def progress(row):
            s = row.setting
            attn, mlp = ("file" if c.is_file else c.label("") for c in (s.attention, s.mlp))
            print(f"[advisor] {s.numerics} attention={attn} mlp={mlp}: "
                  f"top-1 {row.top1 * 100:.2f}% PCC {row.pcc:.6f} ({row.seconds:.1f} s)", file=sys.stderr)

        advice = advise(req, classes, progress=progress)
        print(f"Bringup: {req.model_py} | model: {req.model} | file weights: {advice.file_dtype} | "
              f"{advice.prompt_len} prompt tokens, {advice.scored} scored"
              + (f" | real shape: {advice.real_model}" if advice.real_model else ""))
        print(markdown(advice))
        if args.write:
            write_section(bringup_md, section_text(advice, "python scripts/fidelity_advisor.py "
                                                           + " ".join(sys.argv[1:] if argv is None else argv)))
            print(f"wrote the Card numerics section of {bringup_md}", file=sys.stderr)
        if args.json:
            write_json(args.json, to_json(advice))
            print(f"wrote {args.json}", file=sys.stderr)
    return 0
