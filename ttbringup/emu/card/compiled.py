"""The compiled card-mode matmul kernel (``dst_kernel.cpp``): ``card_matmul.dst_fast``'s arithmetic in one C++ pass
over the weight, 14-40x faster than its torch formulation on decode shapes (docs/card-numerics.md, step 5).

Contracts:

* ``dst(x, w, phases, fp32_dest, block_tiles=0, fold_last=False)`` -> float32 ``[M, N]`` values of
  ``x [M, K] @ w [K, N]`` accumulated in K blocks of ``block_tiles`` tiles (0: one block) as
  ``card_matmul.k_blocked`` states: the Dst after the last block, or with ``fold_last`` the partials (x SrcB values,
  any float dtype; w SrcA values, bfloat16 kept as is, other dtypes as float32; any strides), or ``None`` when
  the kernel is not available, in which case the caller computes by the torch formulation. The two differ only
  in the float32 rounding of each 16-product sum (the kernel adds in K order; the torch formulation in BLAS order,
  and for 2-4 rows a SrcA-lo phase's sum as the whole significand's minus the hi slice's): with a BF16 Dst that
  shows in a few outputs in 10^4 (0.002-0.05 % measured on a real-shape decode step's matmuls, none in the tests'
  random cases), with an FP32 Dst in the last bits of up to half of them. Column blocks run on torch's intra-op
  threads; the result does not depend on their number.
* ``dst_block_float(x, mant, exp, bits, n, phases, fp32_dest, block_tiles=0, fold_last=False)``: the same for a
  bfloat8_b / bfloat4_b weight given as its storage (``tensor.BlockFloat``'s int8 codes ``[Kp, Np]`` and shared
  exponents ``[Kp, Np / 16]``, the first ``n`` columns used), read without a decoded copy; the values are those
  ``numerics.bfp_dequantize`` gives for blocks without the special exponent 255 (the caller decodes blocks with
  it). ``None`` without the kernel.
* The kernel is built on first use (about 30 s, once per machine: ``build_directory``, in torch's extension
  cache) with torch's ``cpp_extension`` (a C++ compiler and ``ninja``: the
  requirements install the PyPI ``ninja``). It is built for the instruction set torch reports for this CPU
  (``AVX512`` or a baseline build), never ``-march=native``, so a shared cache serves different machines.
  ``make install`` builds it (``main``).
* If the build or the load fails, one warning line says why and that card mode runs the torch formulation; it
  is not retried in the process. ``status()`` is that line's reason, or ``"built (<isa>)"``. A build lock left
  by a killed build (older than ``STALE_LOCK_SECONDS``) is removed with a warning, so no run waits on it forever.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("dst_kernel.cpp")
_ISA_FLAGS = {"avx512": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma"], "baseline": []}
_state: dict = {"module": None, "tried": False, "reason": "not built yet"}
STALE_LOCK_SECONDS = 600


def isa() -> str:
    """The instruction set the kernel is built for on this CPU."""
    return "avx512" if torch.backends.cpu.get_cpu_capability() == "AVX512" else "baseline"


def _ninja_on_path() -> None:
    """torch's builder runs ``ninja`` from PATH; the PyPI package puts it next to its module, which a venv's
    ``bin`` holds only when the venv is activated."""
    if shutil.which("ninja") is None:
        with contextlib.suppress(ImportError):
            import ninja

            os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")


def build_directory(variant: str) -> Path:
    """Where the kernel is built: torch's extension cache (``$TORCH_EXTENSIONS_DIR`` if set), one folder per
    variant, Python and torch version (a module built against another torch is not loaded)."""
    from torch.utils import cpp_extension

    root = os.environ.get("TORCH_EXTENSIONS_DIR") or cpp_extension.get_default_build_root()
    py = f"py{sys.version_info.major}{sys.version_info.minor}"
    return Path(root) / f"ttbringup_card_dst_{variant}-{py}-torch{torch.__version__}"


def _clear_stale_lock(folder: Path) -> None:
    """torch's builder waits, without end, while its lock file exists; a build killed before it released the lock
    (SIGKILL, an OOM kill) leaves one behind. A build takes under two minutes, so a lock older than
    ``STALE_LOCK_SECONDS`` is stale: removed, with a warning."""
    lock = folder / "lock"
    with contextlib.suppress(FileNotFoundError):
        age = time.time() - lock.stat().st_mtime
        if age > STALE_LOCK_SECONDS:
            lock.unlink()
            warnings.warn(f"card mode: removed the stale build lock {lock} ({age / 60:.0f} minutes old: an "
                          "interrupted build)", RuntimeWarning, stacklevel=3)


def _build():
    from torch.utils import cpp_extension

    _ninja_on_path()
    variant = isa()
    folder = build_directory(variant)
    folder.mkdir(parents=True, exist_ok=True)
    _clear_stale_lock(folder)
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):  # torch prints its cache paths; the caller reports the outcome
        return cpp_extension.load(f"ttbringup_card_dst_{variant}", [str(SOURCE)],
                                  extra_cflags=["-O3", "-fopenmp", *_ISA_FLAGS[variant]], extra_ldflags=["-fopenmp"],
                                  build_directory=str(folder), verbose=False)


def module():
    """The loaded kernel module, building it on the first call; ``None`` if it cannot be built (warned once)."""
    if not _state["tried"]:
        _state["tried"] = True
        try:
            _state["module"] = _build()
            _state["reason"] = f"built ({isa()})"
        except Exception as e:  # noqa: BLE001 -- any build or load failure means: use the torch formulation
            first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
            _state["reason"] = f"cannot build the compiled matmul kernel: {first}"
            warnings.warn(f"card mode: {_state['reason']}; card matmuls run the torch formulation (about 6x slower)",
                          RuntimeWarning, stacklevel=2)
    return _state["module"]


def status() -> str:
    """Whether the kernel is built, or why not (builds it first)."""
    module()
    return _state["reason"]


def dst(x: torch.Tensor, w: torch.Tensor, phases, fp32_dest: bool, block_tiles: int = 0, fold_last: bool = False):
    """Dst values by the compiled kernel, or ``None`` without it (see the module docstring)."""
    mod = module()
    if mod is None:
        return None
    if w.dtype != torch.bfloat16:
        w = w.to(torch.float32)
    return mod.dst(x.to(torch.float32), w, list(phases), bool(fp32_dest), int(block_tiles), bool(fold_last))


def dst_block_float(x: torch.Tensor, mant: torch.Tensor, exp: torch.Tensor, bits: int, n: int, phases,
                    fp32_dest: bool, block_tiles: int = 0, fold_last: bool = False):
    """Dst values of ``x`` times a block-float weight's storage, or ``None`` without the kernel (module docstring)."""
    from .. import numerics

    mod = module()
    if mod is None:
        return None
    return mod.dst_block_float(x.to(torch.float32), mant.contiguous(), exp.contiguous(),
                               numerics.bfp_scale_table(bits), int(n), list(phases), bool(fp32_dest),
                               int(block_tiles), bool(fold_last))


def main() -> int:
    """Build (or load from the cache) and say how long it took: ``make install`` runs this."""
    t0 = time.perf_counter()
    line = status()
    print(f"card-mode matmul kernel: {line} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0  # an unavailable kernel is not an install failure: card mode falls back (the line says so)
