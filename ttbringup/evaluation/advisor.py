"""The fidelity advisor: what each op class's weight dtype and compute config cost in accuracy and device bytes,
measured in the emulator's card-numerics mode.

``advise(req, classes)`` loads the bringup and the HF reference once (``pipeline.load``), computes the greedy
reference and its logits once, then for every ``Setting`` of ``sweep(classes)`` builds the bringup inside
``ttbringup.llm.precision.overridden`` (the shared blocks' per-op-class hook), teacher-forces it in the setting's
numerics mode and counts the device bytes of each class's weights. Rows:

1. ``exact``, the model file's configuration: the emulator's float32 upper bound;
2. ``card``, the model file's configuration (no compute config passed: 0.81.1's defaults);
3. ``card``, one class at a time (the others at the file's configuration): for ``attention`` and ``mlp`` weights
   bf16 / bfp8 / bfp4 x fidelity LoFi / HiFi2 / HiFi4 x fp32 accumulation off / on, a passed config also setting
   ``math_approx_mode=False`` and ``packer_l1_acc=True`` (what 0.81.1's own matmul default has for a non-float32
   output); for ``sdpa`` (no weights) fidelity x fp32 accumulation, with ``math_approx_mode=True`` and
   ``packer_l1_acc=False`` as 0.81.1's SDPA default has them, so a row differs from that default only in what
   it names.

Bytes are per chip, from the emulator's allocator rules (``ttbringup.emu.memory``): for the evaluated checkpoint,
and at the real shape when the model file is a seed's (a data-free build of its bundled real config, once per
pair of weight dtypes; "does not fit" when that build runs out of device memory). ``suggestions`` names, per
class, the cheapest setting (fewest weight bytes, then fewest fidelity phases, then no fp32 accumulation) that
fits the real model and whose top-1 and top-5 are at least the file configuration's in card mode and whose logits
PCC is at most ``PCC_SLACK`` below it: a rule of thumb from these measurements, not a
guarantee for other prompts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .cli import CliError

DTYPES = ("bf16", "bfp8", "bfp4")
FIDELITIES = ("LoFi", "HiFi2", "HiFi4")
PHASES = {"LoFi": 1, "HiFi2": 2, "HiFi4": 4}  # fidelity phases per multiply (facts §3.1)
_TTNN_DTYPE = {"bf16": "bfloat16", "bfp8": "bfloat8_b", "bfp4": "bfloat4_b"}
CLASSES = ("attention", "mlp", "sdpa")
WEIGHTLESS = ("sdpa",)  # classes with a compute config only
PCC_SLACK = 0.001  # a suggestion may lose this much logits PCC against the file's configuration in card mode


@dataclass(frozen=True)
class ClassSetting:
    """One op class's choice; all None: the model file's weight dtype and the ops' default configs."""

    weight_dtype: str | None = None  # bf16 / bfp8 / bfp4
    fidelity: str | None = None  # LoFi / HiFi2 / HiFi4
    fp32_acc: bool = False

    @property
    def is_file(self) -> bool:
        return self.weight_dtype is None and self.fidelity is None

    def label(self, file_dtype: str | None) -> str:
        """How a table names the choice (``file_dtype`` None: a class without weights)."""
        if self.is_file:
            return "default config" if file_dtype is None else f"file ({file_dtype}, default config)"
        name = self.fidelity if self.weight_dtype is None else f"{self.weight_dtype} {self.fidelity}"
        return name + (" fp32-acc" if self.fp32_acc else "")

    def cost(self) -> tuple:
        return (PHASES.get(self.fidelity, 2), self.fp32_acc)


@dataclass(frozen=True)
class Setting:
    numerics: str  # exact / card
    attention: ClassSetting = ClassSetting()
    mlp: ClassSetting = ClassSetting()
    sdpa: ClassSetting = ClassSetting()

    def of(self, cls: str) -> ClassSetting:
        return getattr(self, cls)


def sweep(classes=CLASSES) -> list[Setting]:
    """The rows the advisor measures, in order (see the module docstring)."""
    rows = [Setting("exact"), Setting("card")]
    for cls in classes:
        for dtype in (None,) if cls in WEIGHTLESS else DTYPES:
            for fidelity in FIDELITIES:
                for fp32 in (False, True):
                    rows.append(Setting("card", **{cls: ClassSetting(dtype, fidelity, fp32)}))
    return rows


def overrides(ttnn, setting: Setting) -> dict:
    """``precision.overridden`` argument of ``setting`` (classes at the file's configuration left out)."""
    from ttbringup.llm.precision import OpPrecision

    out = {}
    for cls in CLASSES:
        c = setting.of(cls)
        if c.is_file:
            continue
        weightless = cls in WEIGHTLESS
        config = ttnn.WormholeComputeKernelConfig(math_fidelity=getattr(ttnn.MathFidelity, c.fidelity),
                                                  math_approx_mode=weightless, fp32_dest_acc_en=c.fp32_acc,
                                                  packer_l1_acc=not weightless)
        out[cls] = OpPrecision(None if weightless else getattr(ttnn, _TTNN_DTYPE[c.weight_dtype]), config)
    return out


def class_bytes(tt_model) -> dict[str, int]:
    """Device bytes per chip of each op class's weights (DRAM interleaved, the emulator's allocator rules)."""
    from ttbringup.emu.memory import DRAM_BANKS, bytes_per_bank
    from ttbringup.llm.precision import class_weights

    return {cls: sum(bytes_per_bank(t.padded_shape, t.dtype, t.layout, t.tile, t.memory_config()) * DRAM_BANKS
                     for t in tensors)
            for cls, tensors in class_weights(tt_model).items()}


@dataclass
class Row:
    setting: Setting
    top1: float
    top5: float
    pcc: float
    bytes: dict  # class -> bytes per chip, evaluated checkpoint
    real_bytes: dict | None  # class -> bytes per chip at the real shape (seeds only; None: does not fit)
    seconds: float


@dataclass
class Advice:
    model_py: str
    model: str
    real_model: str | None  # the seed whose real shape the real_bytes are of
    file_dtype: str
    prompt_len: int
    scored: int
    classes: tuple
    rows: list[Row] = field(default_factory=list)


def _real_shape_bytes(loaded, hf_id: str, ttnn, setting: Setting, cache: dict) -> dict:
    """Per-class weight bytes of a data-free build of ``hf_id``'s real config under ``setting`` (cached by dtypes);
    None when that build runs out of device memory (the setting does not fit the real model on this system)."""
    from ttbringup.fixtures import real_config
    from ttbringup.llm.precision import overridden

    from .device import opened_device
    from .loading import meta_model

    key = tuple(setting.of(cls).weight_dtype for cls in CLASSES)
    if key not in cache:
        meta = meta_model(real_config(hf_id))
        try:
            with overridden(overrides(ttnn, setting)), opened_device(ttnn, loaded.mesh_shape,
                                                                     loaded.req.device_id) as d:
                cache[key] = class_bytes(loaded.module.build_model(meta, d, loaded.req.max_seq_len))
        except Exception as err:  # noqa: BLE001 - only the emulator's out-of-memory means "does not fit"
            if not any(cls.__name__ == "OutOfMemoryError" for cls in type(err).__mro__):
                raise
            cache[key] = None
    return cache[key]


def advise(req, classes=CLASSES, progress=None) -> Advice:
    """Measure every row of ``sweep(classes)`` for the eval ``req`` (an ``EvalRequest``; its numerics are ignored).

    ``progress(row)`` is called after each row. CliError unless the backend is the emulator.
    """
    from ttbringup.emu import numerics_mode
    from ttbringup.fixtures import SEED_MODELS

    from .loading import default_model_id
    from .pipeline import _weights_dtype, built_bringup, load
    from .reference import greedy_reference
    from .teacher_forcing import hf_teacher_forced_logits, teacher_force

    loaded = load(req)  # registers the backend as ttnn: only then can ttbringup.llm import
    from ttbringup.llm.precision import overridden

    if loaded.backend != "emu":
        raise CliError(f"the fidelity advisor measures in the emulator's card-numerics mode; the {loaded.backend} "
                       "backend cannot (use --backend emu)")
    ttnn = loaded.ttnn
    ref_ids = greedy_reference(loaded.ref.model, loaded.prompt_ids, req.max_new_tokens, req.min_new_tokens,
                               progress=req.progress)
    ref_logits = hf_teacher_forced_logits(loaded.ref.model, loaded.prompt_ids, ref_ids)
    seed = default_model_id(req.model_py)
    seed = seed if seed in SEED_MODELS else None
    file_dtype = str(getattr(loaded.module, "WEIGHT_DTYPE", "?")).replace("DataType.", "").lower()
    advice = Advice(model_py=req.model_py, model=req.model, real_model=seed, file_dtype=file_dtype,
                    prompt_len=len(loaded.prompt_ids), scored=len(ref_ids), classes=tuple(classes))
    real_cache: dict = {}
    for setting in sweep(classes):
        start = time.perf_counter()
        with overridden(overrides(ttnn, setting)), built_bringup(loaded) as tt_model:
            advice.file_dtype = _weights_dtype(loaded.module, tt_model) or file_dtype
            sizes = class_bytes(tt_model)
            with numerics_mode.use(setting.numerics):
                r = teacher_force(None, tt_model, loaded.prompt_ids, ref_ids, reference_logits=ref_logits,
                                  progress=False)
        real = _real_shape_bytes(loaded, seed, ttnn, setting, real_cache) if seed else None
        row = Row(setting, r.top1, r.top5, r.logits_pcc, sizes, real, time.perf_counter() - start)
        advice.rows.append(row)
        if progress is not None:
            progress(row)
    return advice


def suggestions(advice: Advice) -> dict[str, Row | None]:
    """Per class: the cheapest row varying that class that scores at least the card-mode file row (module doc)."""
    base = next(r for r in advice.rows if r.setting == Setting("card"))
    out = {}
    for cls in advice.classes:
        others = [c for c in CLASSES if c != cls]
        candidates = [r for r in advice.rows if r.setting.numerics == "card" and not r.setting.of(cls).is_file
                      and all(r.setting.of(o).is_file for o in others)
                      and r.top1 >= base.top1 and r.top5 >= base.top5 and r.pcc >= base.pcc - PCC_SLACK
                      and (advice.real_model is None or r.real_bytes is not None)]
        out[cls] = min(candidates, key=lambda r: ((r.real_bytes or r.bytes)[cls], r.setting.of(cls).cost()),
                       default=None)
    return out


def _mib(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"


def _gb(n: int) -> str:
    return f"{n / 1e9:.3f} GB"


def markdown(advice: Advice) -> str:
    """The table (one line per row) and the suggestion lines, as MODEL_BRINGUP.md carries them."""
    real = advice.real_model is not None
    head = ["numerics", "attention (q/k/v/o)", "MLP", "SDPA", "top-1", "top-5", "logits PCC",
            "attn + MLP weights (this checkpoint)"] + (["attn + MLP weights per chip (real shape)"] if real else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in advice.rows:
        s = r.setting
        cells = [s.numerics, s.attention.label(advice.file_dtype), s.mlp.label(advice.file_dtype), s.sdpa.label(None),
                 f"{r.top1 * 100:.2f}%", f"{r.top5 * 100:.2f}%", "n/a" if r.pcc != r.pcc else f"{r.pcc:.6f}",
                 _mib(sum(r.bytes.values()))]
        if real:
            cells.append("does not fit (device OOM)" if r.real_bytes is None else _gb(sum(r.real_bytes.values())))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for cls, row in suggestions(advice).items():
        if row is None:
            lines.append(f"- {cls}: no setting tried keeps the card-mode top-1 / top-5 (and PCC within {PCC_SLACK}) of "
                         "the file's configuration")
            continue
        where = row.real_bytes if real else row.bytes
        size = _gb(where[cls]) + " per chip at the real shape" if real else _mib(where[cls])
        weights = "" if cls in WEIGHTLESS else f"{cls} weights {size}; "
        lines.append(f"- {cls}: cheapest setting that keeps the file configuration's card-mode top-1 / top-5 and "
                     f"its logits PCC within {PCC_SLACK}: "
                     f"**{row.setting.of(cls).label(None if cls in WEIGHTLESS else advice.file_dtype)}** ({weights}top-1 "
                     f"{row.top1 * 100:.2f}%, top-5 {row.top5 * 100:.2f}%, PCC {row.pcc:.6f})")
    return "\n".join(lines)


def to_json(advice: Advice) -> dict:
    def cls_dict(c: ClassSetting) -> dict:
        return {"weight_dtype": c.weight_dtype, "fidelity": c.fidelity, "fp32_acc": c.fp32_acc}

    return {
        "model_py": advice.model_py, "model": advice.model, "real_model": advice.real_model,
        "file_dtype": advice.file_dtype, "prompt_len": advice.prompt_len, "scored": advice.scored,
        "rows": [{"numerics": r.setting.numerics, "attention": cls_dict(r.setting.attention),
                  "mlp": cls_dict(r.setting.mlp), "sdpa": cls_dict(r.setting.sdpa), "top1": r.top1, "top5": r.top5, "logits_pcc": r.pcc,
                  "bytes": r.bytes, "real_bytes": r.real_bytes, "seconds": r.seconds} for r in advice.rows],
        "suggestions": {cls: None if row is None else cls_dict(row.setting.of(cls))
                        for cls, row in suggestions(advice).items()},
    }
