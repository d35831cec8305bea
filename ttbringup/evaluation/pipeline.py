"""One whole teacher-forcing eval, as eval.py, run_eval.py and eval_seeds.py run it.

``run_eval(EvalRequest) -> EvalOutcome``:

1. ``load``: pick the ttnn backend and import the bringup file (skipped when ``model_py`` is None:
   the HF model is then scored against itself, the sanity baseline); turn the prompt into token ids; check
   prompt + new tokens fit ``max_seq_len``; plan host memory (``host_memory``: on the emulator a data-free build
   of the bringup says what it will hold, and whether the prompt fits its cache) and stop with one line if
   nothing fits; load the HF reference (CPU, float32 compute, offline);
2. the reference: greedy HF tokens, then the HF logits along them (one teacher-forced pass);
3. ``built_bringup``: open the device (a mesh when the file declares ``MESH_SHAPE``), build the
   bringup (freeing each HF layer once uploaded when the memory plan says so), check its ``max_cache_len``;
   teacher-force against the logits of step 2, once per numerics mode of ``numerics`` (``--numerics both``:
   exact, then card, on the same build; see ``numerics``); the device closes whatever happens.

Numerics: ``EvalRequest.numerics`` lists the emulator modes to score (None: the emulator's current mode, i.e.
``$TTBRINGUP_NUMERICS`` or exact). ``EvalOutcome.by_numerics`` holds one result per mode run, keyed by mode;
``result`` is the first. On the real ttnn backend the card computes one way: the one run is keyed ``device``
(and asking for two modes is a ``CliError``); the HF model scoring itself is keyed ``hf``.

``load`` and ``built_bringup`` serve the other tools (layer compare, demo) too.

Bad input raises :class:`~ttbringup.evaluation.cli.CliError`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .cli import CliError, check_positive

if TYPE_CHECKING:  # torch stays unimported until an eval really runs
    from .teacher_forcing import TeacherForcingResult


@dataclass
class EvalRequest:
    """What to evaluate. Prompt: ``prompt_ids`` if given, else ``prompt`` text (cut or repeated
    to exactly ``prompt_length`` tokens when that is set)."""

    model_py: str | None
    model: str
    prompt: str | None = None
    prompt_ids: list[int] | None = None
    prompt_length: int | None = None
    max_new_tokens: int = 20
    min_new_tokens: int | None = None
    max_seq_len: int = 2048
    prefill_decode: bool = False  # True: prefill token by token; False: the model's own setting
    trace: bool = False  # replay the decode steps as a metal trace (the model needs ``trace_decode``)
    device_id: int = 0
    seed: int = 0
    cache_dir: str | None = None
    backend: str | None = None  # auto | ttnn | emu (None: $TTBRINGUP_BACKEND, else auto)
    random_weights: bool = False
    progress: bool = True
    numerics: tuple[str, ...] | None = None  # emulator modes to score, in order (None: the current mode)


@dataclass
class EvalOutcome:
    """The request, what was measured, and the facts a report names."""

    request: EvalRequest
    result: "TeacherForcingResult"
    backend: str  # "emu", "ttnn", or "hf" when the HF model scored itself
    reference_source: str
    reference_precision: str
    mesh_shape: tuple[int, int] | None
    weights_dtype: str | None
    seconds: dict = field(default_factory=dict)
    decode_traced: bool = False  # the decode steps replayed a metal trace
    tokenizer: object | None = None  # for showing tokens; not serialized
    by_numerics: dict = field(default_factory=dict)  # mode -> TeacherForcingResult, in run order

    @property
    def numerics(self) -> str:
        """What the ``numerics`` field of a report says: exact, card, both, device or hf."""
        return "both" if len(self.by_numerics) > 1 else next(iter(self.by_numerics), "exact")

    def decode(self, ids) -> str | None:
        if self.tokenizer is None:
            return None
        return self.tokenizer.decode(list(ids))


def _prompt_ids(req: EvalRequest, tokenizer, vocab: int) -> tuple[list[int], object | None]:
    from .prompts import DEFAULT_PROMPT, check_ids_in_vocab, exact_length_ids, tokenizer_or_bytes

    if req.prompt_ids is not None:
        check_ids_in_vocab(req.prompt_ids, vocab, "prompt ids")
        return list(req.prompt_ids), tokenizer
    tokenizer = tokenizer_or_bytes(tokenizer, vocab, allow_bytes=req.random_weights)
    text = DEFAULT_PROMPT if req.prompt is None else req.prompt
    if req.prompt_length is not None:
        ids = exact_length_ids(tokenizer, text, req.prompt_length)
    else:
        ids = list(tokenizer.encode(text))
    if not ids:
        raise CliError("the prompt encodes to no tokens")
    check_ids_in_vocab(ids, vocab, "prompt")
    return ids, tokenizer


def _check_fits(prompt_len: int, new_tokens: int, capacity: int, what: str) -> None:
    if prompt_len + new_tokens > capacity:
        raise CliError(f"prompt ({prompt_len} tokens) + {new_tokens} new tokens = {prompt_len + new_tokens} "
                       f"exceeds {what} ({capacity})")


def _weights_dtype(module, tt_model) -> str | None:
    """The bringup's weight dtype when it says (``weight_dtype`` attribute or ``WEIGHT_DTYPE`` constant)."""
    for owner, name in ((tt_model, "weight_dtype"), (tt_model, "weights_dtype"), (module, "WEIGHT_DTYPE"),
                        (module, "WEIGHTS_DTYPE")):
        value = getattr(owner, name, None)
        if value is not None:
            return str(value).replace("DataType.", "").lower()
    return None


def validate(req: EvalRequest) -> None:
    """Checks that need no model: call early to fail fast."""
    from .loading import check_model_file

    check_positive("--max_new_tokens", req.max_new_tokens)
    check_positive("--max_seq_len", req.max_seq_len)
    if req.min_new_tokens is not None and req.min_new_tokens < 0:
        raise CliError(f"--min_new_tokens must not be negative (got {req.min_new_tokens})")
    if req.min_new_tokens is not None and req.min_new_tokens > req.max_new_tokens:
        raise CliError(f"--min_new_tokens ({req.min_new_tokens}) exceeds --max_new_tokens ({req.max_new_tokens})")
    if req.model_py is not None:
        check_model_file(req.model_py)
    if req.prompt_ids is not None:
        if not req.prompt_ids:
            raise CliError("the prompt has no token ids")
        _check_fits(len(req.prompt_ids), req.max_new_tokens, req.max_seq_len, "--max_seq_len")


@dataclass
class Loaded:
    """Everything an eval needs before the device opens: backend, bringup module, HF reference, prompt."""

    req: EvalRequest
    ttnn: object | None  # the ttnn module (None when the HF model scores itself)
    backend: str  # "emu", "ttnn" or "hf"
    module: object | None  # the imported model.py
    mesh_shape: tuple[int, int] | None
    ref: object  # loading.Reference
    prompt_ids: list[int]
    tokenizer: object | None
    host: object  # host_memory.HostPlan


def _data_free_build(req: EvalRequest, ttnn, module, mesh, meta, prompt_len: int) -> int | None:
    """The emulated device bytes (all chips) of ``build_model`` on the data-free ``meta`` model, or None (said on
    stderr) when the model file cannot build without data. Unsupported models, device OOM and a prompt longer than
    the model's cache are raised: the real build would fail the same way, and this way it fails before the
    reference loads."""
    from ttbringup.emu.memory import usage

    from .device import opened_device

    try:
        with opened_device(ttnn, mesh, req.device_id) as device:
            tt_model = module.build_model(meta, device, req.max_seq_len)
            cache_len = getattr(tt_model, "max_cache_len", None)
            bytes_used = sum(chip["dram"]["peak"] + chip["l1"]["peak"] for chip in usage(device))
    except Exception as err:  # noqa: BLE001 - the file's own code on meta tensors; any failure means "no estimate"
        if any(cls.__name__ in ("UnsupportedModelError", "OutOfMemoryError") for cls in type(err).__mro__):
            raise
        print(f"[ttbringup] host memory: {req.model_py} does not build without data ({type(err).__name__}); "
              "counting its host copy as large as the checkpoint", file=sys.stderr)
        return None
    if cache_len is not None:
        _check_fits(prompt_len, req.max_new_tokens, int(cache_len), "the model's cache (max_cache_len)")
    return bytes_used


def _model_bytes(req: EvalRequest, config, ttnn, module, mesh, backend_name: str, prompt_len: int):
    """host_memory.ModelBytes of this eval; on the emulator the bringup's bytes come from a data-free build."""
    from .host_memory import ModelBytes
    from .loading import meta_model, stored_dtype

    meta = meta_model(config)
    params = {id(p): p for p in meta.parameters()}
    total = sum(p.numel() for p in params.values())
    element = stored_dtype(config).itemsize
    layers = getattr(getattr(meta, "model", None), "layers", ())
    in_layers = {id(p) for layer in layers for p in layer.parameters()}
    largest = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in meta.modules())
    bringup = 0
    if backend_name == "emu":
        bringup = _data_free_build(req, ttnn, module, mesh, meta, prompt_len)
        if bringup is None:
            bringup = total * element
    tokens = req.max_new_tokens + prompt_len
    return ModelBytes(params=total, stored_element=element,
                      non_layer_params=sum(p.numel() for k, p in params.items() if k not in in_layers),
                      largest_module_params=largest, bringup=bringup,
                      activations=3 * 4 * tokens * config.vocab_size)


def load(req: EvalRequest, *, allow_release: bool = False) -> Loaded:
    """Validate ``req``, pick the backend, import the bringup, plan host memory, load the HF reference, encode the
    prompt, and check that prompt + ``max_new_tokens`` fit ``max_seq_len``.

    ``allow_release``: the caller reads the HF model only before the build (``run_eval``), so the plan may free it
    layer by layer during the build.
    """
    from .loading import check_available

    validate(req)
    check_available(req.model, req.random_weights, req.cache_dir)
    from . import host_memory
    from .loading import load_model_module, load_reference, load_tokenizer, mesh_shape_of, reference_config

    module = ttnn = mesh = None
    backend_name = "hf"
    if req.model_py is not None:
        from ttbringup import backend

        ttnn = backend.load(req.backend)
        backend_name = "emu" if backend.is_emulator(ttnn) else "ttnn"
        module = load_model_module(req.model_py)
        mesh = mesh_shape_of(module)
    config, _ = reference_config(req.model, random_weights=req.random_weights, cache_dir=req.cache_dir)
    prompt_ids, tokenizer = _prompt_ids(req, load_tokenizer(req.model, req.cache_dir), config.vocab_size)
    _check_fits(len(prompt_ids), req.max_new_tokens, req.max_seq_len, "--max_seq_len")
    sizes = _model_bytes(req, config, ttnn, module, mesh, backend_name, len(prompt_ids))
    host = host_memory.plan(sizes, backend=backend_name, allow_release=allow_release)
    ref = load_reference(req.model, random_weights=req.random_weights, seed=req.seed, cache_dir=req.cache_dir,
                         float32_whole=host.reference_float32, config=config)
    return Loaded(req=req, ttnn=ttnn, backend=backend_name, module=module, mesh_shape=mesh, ref=ref,
                  prompt_ids=prompt_ids, tokenizer=tokenizer, host=host)


@contextlib.contextmanager
def built_bringup(loaded: Loaded):
    """Open the device, build the bringup and check its ``max_cache_len``; yield it; close the device.

    Yields the HF reference model itself when ``loaded`` has no bringup module. When ``loaded.host`` says so, the
    HF model is freed during the build (see ``release``): read everything needed from it before.
    """
    from .device import TRACE_REGION_SIZE, opened_device
    from .release import releasing_layers

    if loaded.module is None:
        yield loaded.ref.model
        return
    req = loaded.req
    region = TRACE_REGION_SIZE if req.trace else 0
    with opened_device(loaded.ttnn, loaded.mesh_shape, req.device_id, trace_region_size=region) as device:
        if loaded.host.release_layers:
            with releasing_layers(loaded.ref.model) as hf_model:
                tt_model = loaded.module.build_model(hf_model, device, req.max_seq_len)
        else:
            tt_model = loaded.module.build_model(loaded.ref.model, device, req.max_seq_len)
        if req.trace:
            if hasattr(tt_model, "trace_decode"):
                tt_model.trace_decode = True
            else:
                print(f"note: trace requested, but {req.model_py} builds a model without a traceable decode (no "
                      "trace_decode attribute): the decode runs eagerly", file=sys.stderr)
        cache_len = getattr(tt_model, "max_cache_len", None)
        if cache_len is not None:
            _check_fits(len(loaded.prompt_ids), req.max_new_tokens, int(cache_len),
                        "the model's cache (max_cache_len)")
        yield tt_model


def numerics_modes(req: EvalRequest, backend_name: str) -> tuple[str, ...]:
    """The numerics keys an eval of ``req`` on ``backend_name`` runs (see the module docstring)."""
    from ttbringup.emu import numerics_mode

    modes = tuple(req.numerics or (numerics_mode.mode(),))
    if backend_name == "emu":
        return modes
    if len(modes) > 1:
        raise CliError(f"--numerics {'/'.join(modes)} compares the emulator's modes; the {backend_name} backend "
                       "computes one way (use --backend emu)")
    return ("device",) if backend_name == "ttnn" else ("hf",)


@contextlib.contextmanager
def numerics_of(key: str):
    """Run the block in emulator mode ``key`` (``device`` / ``hf``: nothing to switch)."""
    from ttbringup.emu import numerics_mode

    if key in numerics_mode.MODES:
        with numerics_mode.use(key):
            yield
    else:
        yield


def run_eval(req: EvalRequest) -> EvalOutcome:
    """Run the eval described by ``req`` (see the module docstring)."""
    from ttbringup.emu.host_cpu import fit_threads

    fit_threads()  # before any heavy work: a busy neighbour costs the emulator what it costs HF
    t0 = time.perf_counter()
    several = len(req.numerics or ()) > 1
    loaded = load(req, allow_release=not several)  # two modes share one build: the HF model stays whole
    modes = numerics_modes(req, loaded.backend)
    seconds = {"load": time.perf_counter() - t0}

    from .reference import greedy_reference
    from .teacher_forcing import hf_teacher_forced_logits, teacher_force

    t = time.perf_counter()
    ref_ids = greedy_reference(loaded.ref.model, loaded.prompt_ids, req.max_new_tokens, req.min_new_tokens,
                               progress=req.progress)
    ref_logits = hf_teacher_forced_logits(loaded.ref.model, loaded.prompt_ids, ref_ids)
    seconds["reference"] = time.perf_counter() - t
    t = time.perf_counter()
    with built_bringup(loaded) as tt_model:
        seconds["build"] = time.perf_counter() - t
        weights_dtype = _weights_dtype(loaded.module, tt_model) if loaded.module is not None else None
        t_forcing = time.perf_counter()
        by_numerics = {}
        for key in modes:
            t = time.perf_counter()
            with numerics_of(key):
                by_numerics[key] = teacher_force(
                    None, tt_model, loaded.prompt_ids, ref_ids, reference_logits=ref_logits,
                    prefill_by_decode=True if req.prefill_decode else None, progress=req.progress,
                    desc="teacher forcing" + (f" ({key})" if len(modes) > 1 else ""))
            decode_traced = bool(getattr(tt_model, "decode_traced", False))
            if len(modes) > 1:
                seconds[f"teacher_forcing_{key}"] = time.perf_counter() - t
                if decode_traced:
                    tt_model.release_trace()  # the next mode captures its own trace
        seconds["teacher_forcing"] = time.perf_counter() - t_forcing
    seconds["total"] = time.perf_counter() - t0
    return EvalOutcome(request=req, result=by_numerics[modes[0]], backend=loaded.backend,
                       reference_source=loaded.ref.source, reference_precision=loaded.ref.precision,
                       mesh_shape=loaded.mesh_shape, weights_dtype=weights_dtype, seconds=seconds,
                       decode_traced=decode_traced, tokenizer=loaded.tokenizer, by_numerics=by_numerics)
