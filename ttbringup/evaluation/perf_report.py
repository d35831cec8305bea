"""Predicted device time of a bringup on a Wormhole system, from one data-free emulator run.

``run(PerfRequest) -> PerfReport``: build the bringup on the HF model of its config on torch's ``meta`` device
(no weights are read: device time does not depend on values; ``random_weights`` builds from random weights instead,
for a file whose build needs data), then with device-time recording on
(``ttbringup.emu.device_time``) run one prefill of ``prompt_len`` tokens and ``decode_steps`` decode steps. With
``trace`` the decode is replayed as a metal trace (the bringup's ``trace_decode``: step 1 eager, step 2 captured
and replayed, later steps replayed); the last decode step is the one reported. Each recorded op gets its
predicted device time and the op-to-op gap before it (``device_time.timeline``); then

* TTFT = one user's prefill pass, device time + gaps (embedding through LM head; host transfers not counted):
  with ``batch`` users the prefill phase (one pass per user, as the bringups prefill) divided by ``batch``,
* decode tokens/s/user = 1 / (the last decode step's device time + gaps); tokens/s = that x ``batch`` (every
  decode step computes 32 rows; only the active users' KV prefixes are read).

``weight_dtype`` (bf16 / bfp8 / bfp4) is a what-if: the file's ``WEIGHT_DTYPE`` replaced for the build;
``dram_sharded_decode`` prices the decode matmuls as DRAM-sharded (``device_time.what_if``; the calibration uses it).
The tables, the estimate lines (with predicted / published ratios when the model and system match a published
tt_transformers row) and the CSV are in :mod:`.perf_tables`.

Bad input raises :class:`~ttbringup.evaluation.cli.CliError`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from .cli import CliError, check_positive

@dataclass
class PerfRequest:
    model_py: str
    model: str  # HF id or local checkpoint dir (only its config is read)
    system: str | None = None  # n150 / n300 / t3000; None: the smallest that holds the file's mesh
    prompt_len: int = 128
    decode_steps: int = 4
    batch: int = 1  # users decoding together (each prefilled on its own, as the bringups do)
    trace: bool = False
    max_seq_len: int = 2048
    device_id: int = 0
    cache_dir: str | None = None
    weight_dtype: str | None = None  # bf16 / bfp8 / bfp4: replaces the file's WEIGHT_DTYPE for this run (what-if)
    random_weights: bool = False  # build from random weights (seeded) instead of data-free: for files that need data
    seed: int = 0
    dram_sharded_decode: bool = False  # price decode matmuls as DRAM-sharded (device_time.what_if; the emulator
    # cannot place such weights): how tt_transformers runs them, for the calibration


@dataclass
class PerfReport:
    request: PerfRequest
    system: object  # device_time.constants.System
    mesh: tuple
    prefill: list  # timeline.Row
    decode: list  # the last decode step's rows
    decode_traced: bool
    phases: dict = field(default_factory=dict)  # phase -> rows, every phase run

    @property
    def prefill_s(self) -> float:
        """The whole prefill phase: every user's prompt (one pass per user)."""
        from ttbringup.emu.device_time.timeline import total_seconds

        return total_seconds(self.prefill)

    @property
    def ttft_s(self) -> float:
        """Time to first token of one user: its own prefill pass (the phase over the users)."""
        return self.prefill_s / self.request.batch

    @property
    def decode_step_s(self) -> float:
        from ttbringup.emu.device_time.timeline import total_seconds

        return total_seconds(self.decode)

    @property
    def tokens_per_s_per_user(self) -> float:
        return 1.0 / self.decode_step_s

    @property
    def tokens_per_s(self) -> float:
        return self.request.batch / self.decode_step_s


def validate(req: PerfRequest) -> None:
    """Checks that need no model (fail fast)."""
    from .loading import check_model_file

    check_model_file(req.model_py)  # first: it needs no torch
    from ttbringup.emu.device_time.constants import SYSTEMS

    check_positive("--prompt_len", req.prompt_len)
    check_positive("--decode_steps", req.decode_steps)
    check_positive("--batch", req.batch)
    check_positive("--max_seq_len", req.max_seq_len)
    if req.weight_dtype is not None and req.weight_dtype not in WEIGHT_DTYPES:
        raise CliError(f"unknown --weight_dtype {req.weight_dtype!r}; choose one of {', '.join(WEIGHT_DTYPES)}")
    if req.system is not None and req.system not in SYSTEMS:
        raise CliError(f"unknown system {req.system!r}; choose one of {', '.join(SYSTEMS)}")
    if req.trace and req.decode_steps < 3:
        raise CliError(f"--trace needs --decode_steps >= 3 (one eager, one captured, one replayed), got "
                       f"{req.decode_steps}")
    if req.prompt_len + req.decode_steps > req.max_seq_len:
        raise CliError(f"--prompt_len ({req.prompt_len}) + --decode_steps ({req.decode_steps}) exceeds "
                       f"--max_seq_len ({req.max_seq_len})")


def config_of(model: str, cache_dir: str | None):
    """The HF config: a local dir's, else the bundled real config of a seed id, else the HF cache's."""
    from transformers import AutoConfig

    from .loading import _looks_like_path, check_available, real_config_path, reference_config

    if _looks_like_path(model):
        check_available(model)
        return AutoConfig.from_pretrained(model, local_files_only=True)
    if real_config_path(model).is_file():
        return reference_config(model, random_weights=True)[0]
    check_available(model, cache_dir=cache_dir)
    return reference_config(model, cache_dir=cache_dir)[0]


def _system(req: PerfRequest, mesh):
    from ttbringup.emu.device_time.constants import SYSTEMS, system_for_chips

    chips = 1 if mesh is None else mesh[0] * mesh[1]
    if req.system is None:
        return system_for_chips(chips)
    system = SYSTEMS[req.system]
    if chips > system.chips:
        raise CliError(f"{req.model_py} runs on {chips} chips (MESH_SHAPE {mesh}); {system.name} has {system.chips}")
    return system


WEIGHT_DTYPES = {"bf16": "bfloat16", "bfp8": "bfloat8_b", "bfp4": "bfloat4_b"}


def hf_model_of(req: PerfRequest, config):
    """The HF model to build from: data-free (torch ``meta``), or random weights drawn with ``req.seed``."""
    import torch
    from transformers import AutoModelForCausalLM

    from .loading import meta_model, stored_dtype

    if not req.random_weights:
        return meta_model(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(req.seed)
        return AutoModelForCausalLM.from_config(config, dtype=stored_dtype(config)).eval()


def _needs_data(err: BaseException) -> bool:
    return isinstance(err, (NotImplementedError, RuntimeError)) and "meta" in str(err).lower()


def _build(req: PerfRequest, module, ttnn, hf_model, device):
    """``build_model``, with the file's ``WEIGHT_DTYPE`` replaced for the build when ``req.weight_dtype`` says; a
    data-free build that fails for want of data says to rerun with ``--random-weights``."""
    saved = getattr(module, "WEIGHT_DTYPE", None)
    if req.weight_dtype is not None:
        if not hasattr(module, "WEIGHT_DTYPE"):
            raise CliError(f"--weight_dtype: {req.model_py} has no WEIGHT_DTYPE constant to replace")
        module.WEIGHT_DTYPE = getattr(ttnn, WEIGHT_DTYPES[req.weight_dtype])
    try:
        return module.build_model(hf_model, device, req.max_seq_len)
    except Exception as err:  # noqa: BLE001 - re-raised unless it is the data-free build's own limit
        if not req.random_weights and _needs_data(err):
            raise CliError(f"{req.model_py} does not build without data ({type(err).__name__}: "
                           f"{' '.join(str(err).split())}); rerun with --random-weights") from err
        raise
    finally:
        if req.weight_dtype is not None:
            module.WEIGHT_DTYPE = saved


@contextlib.contextmanager
def layer_blocks(model, recorder):
    """Tag the ops of ``model.layers[i]``'s ``prefill`` / ``decode`` calls with block ``"layer i"`` while the
    ``with`` block runs (instance attributes wrapping the methods, removed afterwards). A model without ``layers``
    is left alone: its records stay untagged."""
    wrapped = []
    for i, layer in enumerate(getattr(model, "layers", None) or []):
        for name in ("prefill", "decode"):
            method = getattr(layer, name, None)
            if callable(method) and name not in vars(layer):
                setattr(layer, name, _tagged(method, recorder, f"layer {i}"))
                wrapped.append((layer, name))
    try:
        yield
    finally:
        for layer, name in wrapped:
            delattr(layer, name)


def _tagged(method, recorder, block: str):
    def call(*args, **kwargs):
        with recorder.in_block(block):
            return method(*args, **kwargs)

    return call


def run(req: PerfRequest) -> PerfReport:
    """Build the bringup (data-free unless ``random_weights``), run prefill + decode with recording, time every op
    (module docstring)."""
    validate(req)
    import torch

    from ttbringup import backend
    from ttbringup.emu import device_time
    from ttbringup.emu.device_time.timeline import timed_rows

    from .device import TRACE_REGION_SIZE, opened_device
    from .loading import load_model_module, mesh_shape_of

    ttnn = backend.load("emu", announce=False)
    config = config_of(req.model, req.cache_dir)
    module = load_model_module(req.model_py)
    mesh = mesh_shape_of(module)
    system = _system(req, mesh)
    hf_model = hf_model_of(req, config)
    region = TRACE_REGION_SIZE if req.trace else 0
    with opened_device(ttnn, mesh, req.device_id, trace_region_size=region) as device:
        model = _build(req, module, ttnn, hf_model, device)
        cache_len = int(getattr(model, "max_cache_len", req.max_seq_len))
        if req.prompt_len + req.decode_steps > cache_len:
            raise CliError(f"--prompt_len ({req.prompt_len}) + --decode_steps ({req.decode_steps}) exceeds the "
                           f"model's cache (max_cache_len {cache_len})")
        users = int(getattr(model, "users", 1))
        if req.batch > users:
            raise CliError(f"--batch {req.batch}: {req.model_py} builds a model of {users} user(s)")
        if req.trace:
            if not hasattr(model, "trace_decode"):
                raise CliError(f"{req.model_py} builds a model without a traceable decode (no trace_decode)")
            model.trace_decode = True
        with torch.inference_mode(), device_time.recording() as rec, layer_blocks(model, rec):
            with rec.in_phase("prefill"):
                out = model(torch.zeros(req.batch, req.prompt_len, dtype=torch.long))
            for step in range(req.decode_steps):
                with rec.in_phase(f"decode {step + 1}"):
                    out = model(torch.zeros(req.batch, 1, dtype=torch.long), past_key_values=out.past_key_values)
        traced = bool(getattr(model, "decode_traced", False))
        if traced:
            model.release_trace()
    records = rec.records
    if req.dram_sharded_decode:
        from ttbringup.emu.device_time.what_if import dram_sharded_decode

        records = dram_sharded_decode(records)
    phases = {}
    for r in records:
        phases.setdefault(r.phase, []).append(r)
    timed = {name: timed_rows(records, system) for name, records in phases.items()}
    last = f"decode {req.decode_steps}"
    if not timed.get("prefill") or not timed.get(last):
        raise CliError(f"{req.model_py} ran no ttnn device ops in its prefill or decode, so there is no device time "
                       "to predict (does its model call ttnn?)")
    return PerfReport(request=req, system=system, mesh=mesh or (1, 1), prefill=timed.get("prefill", []),
                      decode=timed.get(last, []), decode_traced=traced, phases=timed)
