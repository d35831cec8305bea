"""Batched decode: up to 32 users, one per row of the decode batch, each at its own position.

* ``generate()`` on a left-padded batch of prompts of different lengths gives every user the tokens it gets alone,
  and HF's greedy tokens for that prompt (trained tiny checkpoints, bf16 weights);
* 32 users with different prompt lengths: every user's logits at every step equal its single-user run
  (PCC >= 0.9999) and HF's (PCC >= 0.99), eager and traced;
* users finishing early or joining late (attention-mask columns of 0) leave the others' results and their own
  cache rows alone; the rows of users that never ran stay untouched;
* on meshes: a tensor-parallel batch matches n150's; data parallel runs 32 users per chip, each as alone.
"""

import pytest
import torch
import ttnn  # the emulator: conftest.py registered it

from seed_helpers import model_py
from test_seed_models import pcc, trained
from ttbringup.evaluation.device import opened_device
from ttbringup.fixtures import SEED_MODELS, load_prompt, random_tiny_model

SEEDS = pytest.mark.parametrize("hf_id", SEED_MODELS)
LLAMA = "meta-llama/Llama-3.2-1B"


def left_padded(prompts: list[list[int]], pad: int):
    """``input_ids`` and ``attention_mask`` as a tokenizer with ``padding_side="left"`` returns them."""
    width = max(map(len, prompts))
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros(len(prompts), width, dtype=torch.long)
    for row, p in enumerate(prompts):
        ids[row, width - len(p):] = torch.tensor(p)
        mask[row, width - len(p):] = 1
    return ids, mask


def solo_logits(tt, prompt: list[int], steps: list[int]) -> torch.Tensor:
    """The last-position logits after the prompt and after each of ``steps``, the user alone."""
    out = tt(torch.tensor([prompt]))
    logits = [out.logits[0, -1]]
    for tok in steps:
        out = tt(torch.tensor([[tok]]), past_key_values=out.past_key_values)
        logits.append(out.logits[0, -1])
    return torch.stack(logits)


@SEEDS
@torch.no_grad()
def test_generate_on_a_left_padded_batch_gives_each_user_its_solo_and_hf_tokens(hf_id, device):
    hf, tokenizer = trained(hf_id)
    module = model_py(hf_id)
    module.WEIGHT_DTYPE = module.EMBEDDING_DTYPE = ttnn.bfloat16
    tt = module.build_model(hf, device, max_seq_len=128)
    text = tokenizer(load_prompt("bringup_eval_long")).input_ids
    prompts = [text[:5], text[:40], text[:17], text[:33]]
    pad = hf.config.eos_token_id
    ids, mask = left_padded(prompts, pad)
    got = tt.generate(ids, attention_mask=mask, max_new_tokens=8, do_sample=False, pad_token_id=pad)
    new = got[:, ids.shape[1]:]
    for row, prompt in enumerate(prompts):
        alone = tt.generate(torch.tensor([prompt]), max_new_tokens=8, do_sample=False, pad_token_id=pad)
        want = hf.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                           max_new_tokens=8, do_sample=False, pad_token_id=pad)
        assert new[row].tolist() == alone[0, len(prompt):].tolist() == want[0, len(prompt):].tolist(), row


@pytest.mark.parametrize("traced", [False, True], ids=["eager", "traced"])
@torch.no_grad()
def test_32_users_at_their_own_positions_match_their_solo_runs_and_hf(traced):
    hf = random_tiny_model(LLAMA, seed=0)
    gen = torch.Generator().manual_seed(3)
    lengths = [1 + (7 * u) % 45 for u in range(32)]  # 1..45 tokens, all different rows of the cache
    prompts = [torch.randint(3, hf.config.vocab_size, (n,), generator=gen).tolist() for n in lengths]
    steps = torch.randint(3, hf.config.vocab_size, (32, 6), generator=gen)
    ids, mask = left_padded(prompts, pad=0)
    with opened_device(ttnn, None, trace_region_size=16 << 20) as dev:
        tt = model_py(LLAMA).build_model(hf, dev, max_seq_len=64)
        tt.trace_decode = traced
        out = tt(ids, attention_mask=mask)
        batched = [out.logits[:, -1]]
        for i in range(steps.shape[1]):
            mask = torch.cat([mask, torch.ones(32, 1, dtype=torch.long)], dim=1)
            out = tt(steps[:, i:i + 1], past_key_values=out.past_key_values, attention_mask=mask)
            batched.append(out.logits[:, -1])
        assert tt.decode_traced == traced
        assert out.past_key_values.user_lengths == [n + steps.shape[1] for n in lengths]
        batched = torch.stack(batched, dim=1)  # [user, step, vocab]
        tt.release_trace()
        tt.trace_decode = False
        for u in (0, 1, 6, 13, 31):
            alone = solo_logits(tt, prompts[u], steps[u].tolist())
            ref = hf(torch.tensor([prompts[u] + steps[u].tolist()])).logits[0, len(prompts[u]) - 1:]
            for step in range(len(alone)):
                assert pcc(batched[u, step], alone[step]) >= 0.9999, (u, step)
                assert pcc(batched[u, step], ref[step]) >= 0.99, (u, step)


@torch.no_grad()
def test_users_finishing_early_and_joining_late_leave_the_others_alone(device):
    hf = random_tiny_model(LLAMA, seed=0)
    gen = torch.Generator().manual_seed(4)
    prompts = [torch.randint(3, hf.config.vocab_size, (n,), generator=gen).tolist() for n in (9, 20, 14)]
    steps = torch.randint(3, hf.config.vocab_size, (3, 4), generator=gen)
    tt = model_py(LLAMA).build_model(hf, device, max_seq_len=64)
    cache_k = tt.layers[0].attention.cache.k

    # user 2 joins at the first decode step (no prompt in the prefill); user 1 finishes after two steps
    ids, mask = left_padded(prompts[:2] + [[0]], pad=0)
    mask[2] = 0
    out = tt(ids, attention_mask=mask)
    assert out.logits[2].abs().sum() == 0 and out.past_key_values.user_lengths == [9, 20, 0]
    logits = {u: [] for u in range(3)}
    row_1 = None
    for i in range(4):
        column = torch.tensor([[1], [1 if i < 2 else 0], [1]])
        mask = torch.cat([mask, column], dim=1)
        feed = steps[:, i:i + 1].clone()
        if i == 0:
            feed[2, 0] = prompts[2][0]  # user 2's first token
        out = tt(feed, past_key_values=out.past_key_values, attention_mask=mask)
        for u in range(3):
            if column[u, 0]:
                logits[u].append(out.logits[u, -1])
            else:
                assert out.logits[u].abs().sum() == 0  # an idle user gets no logits
        if i == 1:
            row_1 = ttnn.to_torch(cache_k)[1].clone()
    after = ttnn.to_torch(cache_k)
    assert torch.equal(after[1], row_1), "a finished user's cache row changed"
    assert not after[3:].any(), "rows of users that never ran were written"
    assert out.past_key_values.user_lengths == [13, 22, 4]

    assert all(pcc(a, b) >= 0.9999 for a, b in zip(logits[0], solo_logits(tt, prompts[0], steps[0].tolist())[1:]))
    assert all(pcc(a, b) >= 0.9999 for a, b in zip(logits[1], solo_logits(tt, prompts[1], steps[1, :2].tolist())[1:]))
    joined = [prompts[2][0]] + steps[2, 1:].tolist()
    alone = solo_logits(tt, joined[:1], joined[1:])
    assert all(pcc(a, b) >= 0.9999 for a, b in zip(logits[2], alone))


@torch.no_grad()
def test_bad_batches_raise(device):
    tt = model_py(LLAMA).build_model(random_tiny_model(LLAMA), device, max_seq_len=32)
    with pytest.raises(ValueError, match="batch size 33"):
        tt(torch.ones(33, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"expected \[2, 3\]"):
        tt(torch.ones(2, 3, dtype=torch.long), attention_mask=torch.ones(2, 4))
    out = tt(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="holds 2 sequences, input_ids has 1"):
        tt(torch.ones(1, 1, dtype=torch.long), past_key_values=out.past_key_values)
    only_user_1 = torch.cat([torch.ones(2, 3), torch.tensor([[0.0] * 30, [1.0] * 30])], dim=1)
    with pytest.raises(ValueError, match=r"33 tokens \(3 cached \+ 30 new, user 1\)"):
        tt(torch.ones(2, 30, dtype=torch.long), past_key_values=out.past_key_values, attention_mask=only_user_1)
    assert tt(torch.ones(2, 1, dtype=torch.long), past_key_values=out.past_key_values,
              logits_to_keep=1).logits.shape == (2, 1, tt.config.vocab_size)


@pytest.mark.parametrize("system", ["n300", "t3000"])
@torch.no_grad()
def test_a_batch_on_a_tensor_parallel_mesh_matches_n150(system):
    hf = random_tiny_model(LLAMA, seed=0)
    gen = torch.Generator().manual_seed(5)
    prompts = [torch.randint(3, hf.config.vocab_size, (n,), generator=gen).tolist() for n in (3, 35, 12)]
    steps = torch.randint(3, hf.config.vocab_size, (3, 3), generator=gen)
    n150, mesh_module = model_py(LLAMA), model_py(LLAMA, system)
    for name in ("WEIGHT_DTYPE", "EMBEDDING_DTYPE", "EMBEDDING_LAYOUT"):
        setattr(mesh_module, name, getattr(n150, name))

    def run(tt):
        ids, mask = left_padded(prompts, pad=0)
        out = tt(ids, attention_mask=mask)
        logits = [out.logits]
        for i in range(steps.shape[1]):
            mask = torch.cat([mask, torch.ones(3, 1, dtype=torch.long)], dim=1)
            out = tt(steps[:, i:i + 1], past_key_values=out.past_key_values, attention_mask=mask)
            logits.append(out.logits)
        return torch.cat(logits, dim=1), mask.bool()

    with opened_device(ttnn, None) as one_chip:
        want, mask = run(n150.build_model(hf, one_chip, max_seq_len=64))
    with opened_device(ttnn, tuple(mesh_module.MESH_SHAPE)) as mesh:
        got, _ = run(mesh_module.build_model(hf, mesh, max_seq_len=64))
    assert all(pcc(got[u, c], want[u, c]) >= 0.999 for u, c in mask.nonzero().tolist())


@pytest.mark.parametrize("system,shape", [("n300", (1, 2)), ("t3000", (2, 4))])
@torch.no_grad()
def test_data_parallel_mesh_runs_32_users_per_chip_each_as_alone(system, shape):
    """Weights replicated, users spread over the chips (user u on chip u // 32): every user's logits equal its
    solo run on one n150."""
    from ttbringup.llm import build_decoder_lm

    hf = random_tiny_model(LLAMA, seed=0)
    chips = shape[0] * shape[1]
    gen = torch.Generator().manual_seed(6)
    batch = 32 * (chips - 1) + 3  # the last chip holds 3 users, the others 32
    lengths = [1 + (5 * u) % 23 for u in range(batch)]
    prompts = [torch.randint(3, hf.config.vocab_size, (n,), generator=gen).tolist() for n in lengths]
    steps = torch.randint(3, hf.config.vocab_size, (batch, 3), generator=gen)
    ids, mask = left_padded(prompts, pad=0)
    with opened_device(ttnn, shape, trace_region_size=16 << 20) as mesh:
        tt = build_decoder_lm(hf, mesh, 48, cache_cap=48, data_parallel=True)
        tt.trace_decode = system == "t3000"  # steps: eager, captured, replayed
        assert tt.users == 32 * chips
        with pytest.raises(ValueError, match=f"at most {32 * chips} users"):
            tt(torch.ones(32 * chips + 1, 2, dtype=torch.long))
        out = tt(ids, attention_mask=mask)
        got = [out.logits[:, -1]]
        for i in range(steps.shape[1]):
            mask = torch.cat([mask, torch.ones(batch, 1, dtype=torch.long)], dim=1)
            out = tt(steps[:, i:i + 1], past_key_values=out.past_key_values, attention_mask=mask)
            got.append(out.logits[:, -1])
        assert tt.decode_traced == tt.trace_decode
        tt.release_trace()
    got = torch.stack(got, dim=1)
    with opened_device(ttnn, None) as one_chip:
        solo = build_decoder_lm(hf, one_chip, 48, cache_cap=48)
        for u in sorted({0, 31, 32, 45, batch - 1} & set(range(batch))):
            alone = solo_logits(solo, prompts[u], steps[u].tolist())
            assert all(pcc(got[u, s], alone[s]) >= 0.9999 for s in range(len(alone))), u


@pytest.mark.parametrize("traced", [False, True], ids=["eager", "traced"])
@torch.no_grad()
def test_inputs_written_on_the_second_command_queue_give_the_one_queue_logits(traced):
    """model.input_cq = 1: the decode inputs go through cq 1 with an event each way; the emulator's queue checks
    (QueueRaceError on any unordered access) pass and the logits are the one-queue ones bit for bit."""
    hf = random_tiny_model(LLAMA, seed=0)
    ids = torch.randint(3, hf.config.vocab_size, (2, 20), generator=torch.Generator().manual_seed(7))
    runs = {}
    for queues in (1, 2):
        with opened_device(ttnn, None, trace_region_size=8 << 20) if queues == 1 else _two_queue_device() as d:
            tt = model_py(LLAMA).build_model(hf, d, max_seq_len=32)
            tt.trace_decode = traced
            tt.input_cq = queues - 1
            out = tt(ids[:, :12])
            logits = [out.logits]
            for i in range(12, 20):
                out = tt(ids[:, i:i + 1], past_key_values=out.past_key_values)
                logits.append(out.logits)
            assert tt.decode_traced == traced
            tt.release_trace()
            runs[queues] = torch.cat(logits, dim=1)
    assert torch.equal(runs[1], runs[2])


def _two_queue_device():
    import contextlib

    @contextlib.contextmanager
    def opened():
        d = ttnn.open_mesh_device(ttnn.MeshShape(1, 1), trace_region_size=8 << 20, num_command_queues=2)
        try:
            yield d
        finally:
            ttnn.close_mesh_device(d)

    return opened()
