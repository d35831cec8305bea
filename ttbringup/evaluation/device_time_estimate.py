"""The predicted card speed a demo or eval shows next to its emulator wall time.

``estimate(model_py, model, prompt_len=..., batch=..., trace=...) -> dict`` runs the device-time model
(:mod:`.perf_report`) on the same bringup file and the config of the same ``--model``, data-free, with the run's
prompt length, batch and trace mode, on the smallest system holding the file's mesh. Keys: ``system``,
``prompt_len``, ``batch``, ``decode_traced``, ``ttft_ms``, ``tokens_per_s_per_user``, ``tokens_per_s``; or only
``error`` (one line) when the prediction cannot run (e.g. a file whose build needs its weights' values, or a prompt
that leaves no room in the cache for the decode steps). Only meaningful on the emulator: on a card the measured
numbers are the real ones.
"""

from __future__ import annotations

from .cli import CliError

DECODE_STEPS = 3  # one eager, one captured, one replayed when traced; the last step is reported


def estimate(model_py: str, model: str, *, prompt_len: int, batch: int = 1, trace: bool = False,
             max_seq_len: int = 2048, cache_dir: str | None = None) -> dict:
    """The predicted TTFT and decode speed of the run (module docstring)."""
    from .perf_report import PerfRequest, run

    req = PerfRequest(model_py=model_py, model=model, prompt_len=prompt_len, decode_steps=DECODE_STEPS, batch=batch,
                      trace=trace, max_seq_len=max(max_seq_len, prompt_len + DECODE_STEPS), cache_dir=cache_dir)
    try:
        report = run(req)
    except CliError as err:
        return {"error": str(err)}
    except Exception as err:  # noqa: BLE001 - the estimate is a side result: the run it sits next to succeeded
        return {"error": f"{type(err).__name__}: {' '.join(str(err).split())}"}
    return {"system": report.system.name, "prompt_len": prompt_len, "batch": batch,
            "decode_traced": report.decode_traced, "ttft_ms": report.ttft_s * 1e3,
            "tokens_per_s_per_user": report.tokens_per_s_per_user, "tokens_per_s": report.tokens_per_s}


def estimate_line(est: dict) -> str:
    """``Predicted on n150 (device-time model): TTFT 20.5 ms | decode 60.7 tokens/s/user (traced)``."""
    if "error" in est:
        return f"Predicted on the card (device-time model): n/a ({est['error']})"
    mode = "traced" if est["decode_traced"] else "eager"
    batch = f", {est['tokens_per_s']:.1f} tokens/s at batch {est['batch']}" if est["batch"] > 1 else ""
    return (f"Predicted on {est['system']} (device-time model, not a measurement): TTFT {est['ttft_ms']:.1f} ms | "
            f"decode {est['tokens_per_s_per_user']:.1f} tokens/s/user ({mode}){batch}")
