"""Proving a bringup against the HF reference: reference generation, teacher forcing, metrics,
layer-by-layer compare, and the small helpers the command-line tools share.

Modules (each imports torch/transformers only when it needs them, so the CLIs can reject bad
input before paying for those imports):

- ``cli``: ``CliError`` and ``cli_errors()``: expected failures become one ``error: ...`` line, exit 2.
- ``loading``: load a ``model.py`` by path, the HF reference (offline) and its tokenizer.
- ``prompts``: prompt text and token-id files, prompts of an exact length.
- ``reference``: the HF greedy reference continuation.
- ``teacher_forcing``: the core: ``teacher_force(hf_model, tt_model, prompt_ids, ref_ids)``.
- ``metrics``: PCC and top-k scoring.
- ``device``: open and always close a (mesh) device.
- ``pipeline``: one whole eval as the tools run it: ``run_eval(EvalRequest) -> EvalOutcome``;
  its stages ``load`` and ``built_bringup`` serve the other tools.
- ``compare``: per-layer hidden-state PCC of a bringup against HF, and its plot.
- ``generation``: timed greedy ``generate()`` (TTFT, decode tokens/s/user).
- ``seeds``: the main job's per-model rows and results document.
- ``report``: the human lines, JSON and markdown; ``progress``: tqdm bars on stderr.
- ``commands/``: ``main(argv)`` of eval.py, demo.py and scripts/{run_eval,compare_layers,eval_seeds}.py.
"""
