"""``ttbringup fit``: per weights dtype, the largest KV cache a config's bringup can hold on a system, measured.

For each ``--weights`` choice the search measures data-free plans (``memory.measure``) at power-of-two cache
lengths from 32 up to the config's ``max_position_embeddings`` (and that length itself when it is no power of two)
and keeps the largest that **fits**: no out-of-memory and at least ``MARGIN`` bytes of DRAM left per chip (the
tightest seed plan, ALLaM-7B on n150, keeps ~1 GB for what the plan does not hold: program binaries, a trace
region, fragmentation). The batch is what the blocks allocate: 32 decode rows (users), each with the whole cache;
on a mesh ``fit(..., data_parallel=True)`` measures a whole model per chip instead (``build_decoder_lm``'s
``data_parallel``), 32 users per chip.

``recommend``: the most precise weights (bf16, then bfp8) whose largest cache reaches ``TARGET_CONTEXT`` tokens (or
the whole context when it is shorter); when none does, the most precise whose cache reaches ``MIN_CONTEXT``; when
none does either, the one with the largest cache (the more precise on a tie); bfp4 only when neither bf16 nor bfp8
fits. This is the rule the four seeds' n150 files follow (Llama-3.2-1B bf16/4096, Qwen3-0.6B bf16/2048,
AFM-4.5B bfp8/2048, ALLaM-7B bfp8/256); the ``MIN_CONTEXT`` step keeps a cache too short to use from winning on
precision alone (Phi-3-mini-128k on n150: bf16 reaches 128 tokens, bfp8 256, and bfp8 is taken).
"""

from __future__ import annotations

from dataclasses import dataclass

from ttbringup.llm import CACHE_BATCH

from .memory import CHOICES, DRAM_CAPACITY, Choice, Plan, measure_cached

MARGIN = 1_000_000_000
TARGET_CONTEXT = 2048
# The smallest cache worth precision: the smallest a seed was brought up with by hand (ALLaM-7B on n150) and the
# smallest power of two holding this repository's own eval (a 141-token prompt + 100 scored tokens).
MIN_CONTEXT = 256
PRECISION_ORDER = ("bf16", "bfp8", "bfp4")
# bfp4 for every weight, attention included, costs accuracy the others do not (tiny-checkpoint logits PCC vs HF:
# Arcee-Spark 0.957 and Falcon3-7B 0.72 with bfp4, >= 0.997 with bfp8): recommended only when nothing else fits.
LAST_RESORT = ("bfp4",)


def fits(plan: Plan) -> bool:
    return plan.fits and plan.headroom_bytes >= MARGIN


def cache_candidates(config) -> list[int]:
    """Power-of-two cache lengths from 32 to the context, plus the context (rounded down to 32) when it is none."""
    limit = int(config.max_position_embeddings)
    out, n = [], 32
    while n <= limit:
        out.append(n)
        n *= 2
    top = limit // 32 * 32
    if top >= 32 and top not in out:
        out.append(top)
    return out


@dataclass
class ChoiceFit:
    """The search result of one choice: ``best`` is the plan at the largest cache that fits (None: nothing does),
    ``smallest`` the plan at the first candidate (why nothing fits)."""

    choice: Choice
    best: Plan | None
    smallest: Plan
    data_parallel: bool = False

    @property
    def cache_len(self) -> int:
        return self.best.cache_len if self.best else 0

    @property
    def batch(self) -> int:
        return CACHE_BATCH * (self.smallest.chips if self.data_parallel else 1)


def fit_choice(config, system: str, choice: Choice, build_flags: dict, prompt_len: int | None = None) -> ChoiceFit:
    """Largest candidate cache that fits (binary search, started at the linear estimate from the smallest)."""
    cands = cache_candidates(config)

    def probe(i: int) -> Plan:
        return measure_cached(config, system, choice, cands[i], build_flags, prompt_len=prompt_len)

    dp = bool(build_flags.get("data_parallel"))
    first = probe(0)
    if not fits(first):
        return ChoiceFit(choice, None, first, dp)
    fixed = first.weights_bytes + max(first.activation_bytes, 0)
    est = max([i for i, n in enumerate(cands) if fixed + first.kv_bytes_per_token * n <= DRAM_CAPACITY - MARGIN],
              default=0)
    lo, hi = 0, est  # cands[lo] fits; the answer is in [lo, hi]
    tries = 0
    while lo < hi:
        mid = hi if tries < 2 else (lo + hi + 1) // 2  # the estimate or the one below it is usually the answer
        tries += 1
        if fits(probe(mid)):
            lo = mid
        else:
            hi = mid - 1
    return ChoiceFit(choice, probe(lo), first, dp)


def fit(config, system: str, build_flags: dict, weights: tuple[str, ...] = PRECISION_ORDER,
        prompt_len: int | None = None, data_parallel: bool = False) -> list[ChoiceFit]:
    flags = {**build_flags, "data_parallel": True} if data_parallel else build_flags
    return [fit_choice(config, system, CHOICES[w], flags, prompt_len) for w in weights]


def recommend(results: list[ChoiceFit], config) -> ChoiceFit | None:
    """See the module docstring; ``results`` (tensor-parallel) in ``PRECISION_ORDER``. None when no choice fits."""
    context = int(config.max_position_embeddings) // 32 * 32
    precise = [r for r in results if r.best and r.choice.name not in LAST_RESORT]
    for floor in (min(TARGET_CONTEXT, context), min(MIN_CONTEXT, context)):
        for r in precise:
            if r.cache_len >= floor:
                return r
    if precise:
        return max(precise, key=lambda r: r.cache_len)  # max keeps the first (more precise) of equal caches
    return next((r for r in results if r.best), None)


def why_not(plan: Plan) -> str:
    """One line: why ``plan`` does not fit."""
    if not plan.fits:
        return f"out of memory in the {plan.error.split(':')[0]} with {plan.cache_len} cached tokens"
    return f"{plan.headroom_bytes / 1e9:.2f} GB headroom with {plan.cache_len} cached tokens (margin {MARGIN / 1e9:.0f} GB)"


def _b(n: int) -> str:
    return f"{n:,} B ({n / 1e9:.2f} GB)"


def _dtype(d) -> str:
    return d.name if d is not None else "-"


def render_table(results: list[ChoiceFit]) -> str:
    """The fit table: one row per choice, figures per chip at its largest cache."""
    head = ("| weights | embedding table | lm_head | largest cache | batch | weights | KV per token | KV cache "
            "| activation peak | peak DRAM | headroom |")
    lines = [head, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        c = r.choice
        label = f"{c.name}, data-parallel" if r.data_parallel else c.name
        dtypes = f"| {label} | {_dtype(c.embedding)} {c.embedding_layout.name} | {_dtype(c.lm_head or c.weight)} |"
        p = r.best
        if p is None:
            lines.append(f"{dtypes} does not fit | | {why_not(r.smallest)} | | | | | |")
            continue
        lines.append(f"{dtypes} {p.cache_len} | {r.batch} | {_b(p.weights_bytes)} | {p.kv_bytes_per_token:,} B "
                     f"| {_b(p.kv_cache_bytes)} | {_b(p.activation_bytes)} | {_b(p.peak_bytes)} "
                     f"| {_b(p.headroom_bytes)} |")
    return "\n".join(lines)
