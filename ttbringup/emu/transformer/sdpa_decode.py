"""``ttnn.transformer.scaled_dot_product_attention_decode``: one query token per user against
the KV caches.

q is ``[1, B, nh, hd]`` (heads padded to 32 inside the tile), the caches ``[B, nkv, S, hd]``
in DRAM. Causal (the default): user b attends to cache positions ``0 .. cur_pos[b]``
*inclusive*; a position of -1 (only expressible through ``cur_pos_tensor``) skips the user,
whose output rows are zeros. Query head h reads kv head ``h // (nh / nkv)``. The output is
logical ``[1, B, nh, hd]`` (nh = q's logical head count) and pads to 32 head rows.

Speed: only the cache prefix up to ``max(cur_pos) + 1`` of the users that attend is converted
to float32, and all users are computed in one batched matmul (positions that differ are masked).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import card_sdpa
from ..errors import check, fatal
from ..kv_storage import int_values, is_data_free, read_prefix, read_prefix_all_chips
from ..tensor import Tensor, new_tensor, pad_to
from ..types import DRAM_MEMORY_CONFIG, BufferType, DataType, Layout, MemoryConfig, TensorMemoryLayout
from ..operands import not_emulated, on_device
from .. import numerics_mode
from ..per_chip import chip_values, computed_like_chip_zero, per_chip
from .sdpa import SDPA_DTYPES

OP = "ttnn.transformer.scaled_dot_product_attention_decode"

# Output head count (facts §4): 0.81.1's code and its own test give q's logical head count; its
# docstring (and older tt-metal) the tile-padded one. True switches to the padded form, in which
# the heads past nh are logical zero rows.
PAD_OUTPUT_HEADS = False
_BLOCK_BYTES = 4 << 20  # float32 K + V prefix per block of users


def _on_all_chips(input_tensor_q: Tensor, input_tensor_k: Tensor, input_tensor_v: Tensor, *, is_causal: bool = True,
                  attn_mask: Tensor | None = None, cur_pos=[], cur_pos_tensor: Tensor | None = None,  # noqa: B006
                  memory_config: MemoryConfig | None = None, **rest):
    """Every chip's decode attention in one batched computation: q, k, v on one mesh (distributed or replicated,
    heads split over the chips), causal, positions the same on every chip (a list or a replicated tensor).

    The checks run once, on chip 0's operands (every chip has the same shapes); chip c's query heads attend to
    chip c's kv heads, so the chips are stacked as more kv heads.
    """
    q, k, v, pos = input_tensor_q, input_tensor_k, input_tensor_v, cur_pos_tensor
    if numerics_mode.is_card() or not is_causal or attn_mask is not None or not isinstance(q, Tensor):
        return NotImplemented
    mesh = q.device()
    replicated_pos = pos is None or (isinstance(pos, Tensor) and pos._shards is None and pos.device() is mesh)
    if mesh is None or not replicated_pos or not all(isinstance(t, Tensor) and t.device() is mesh for t in (k, v)):
        return NotImplemented
    chips, chip0 = q.num_chips(), mesh.chip(0)
    q0, k0, v0 = (t._chip_view(0, chip0) for t in (q, k, v))
    pos0 = None if pos is None else pos._chip_view(0, chip0)
    plan = _plan(q0, k0, v0, is_causal, None, cur_pos, pos0, memory_config, **rest)
    spec = _new_output(plan, q0, None)
    if plan.positions is None or is_data_free(q, k, v):
        values = torch.empty((chips,) + plan.out_shape, device="meta")
    else:
        values = pad_to(_attend(q, k, v, chips, None, plan.positions, plan.scale, plan.window, is_causal),
                        (chips,) + plan.out_shape)
    return computed_like_chip_zero(spec, mesh, values)


@per_chip(all_chips=_on_all_chips)
def scaled_dot_product_attention_decode(input_tensor_q: Tensor, input_tensor_k: Tensor, input_tensor_v: Tensor, *,
                                        is_causal: bool = True, attn_mask: Tensor | None = None,
                                        cur_pos=[],  # noqa: B006 (the real default)
                                        cur_pos_tensor: Tensor | None = None, attention_sink: Tensor | None = None,
                                        scale: float | None = None, sliding_window_size: int | None = None,
                                        memory_config: MemoryConfig | None = None, program_config=None,
                                        compute_kernel_config=None, share_cache: bool | None = None) -> Tensor:
    """Decode attention; returns ``[1, B, nh, hd]`` in q's dtype, DRAM unless ``memory_config``."""
    q, k, v = input_tensor_q, input_tensor_k, input_tensor_v
    plan = _plan(q, k, v, is_causal, attn_mask, cur_pos, cur_pos_tensor, memory_config,
                 attention_sink=attention_sink, scale=scale, sliding_window_size=sliding_window_size,
                 program_config=program_config, share_cache=share_cache)
    values = None
    if plan.positions is not None and not is_data_free(q, k, v, attn_mask):
        mask = attn_mask if not is_causal else None
        if numerics_mode.is_card():  # the card's arithmetic (card_sdpa)
            values = card_sdpa.decode(q, k, v, mask, plan.positions, plan.scale, plan.window, is_causal,
                                      compute_kernel_config, program_config)
        else:
            values = _attend(q, k, v, 1, mask, plan.positions, plan.scale, plan.window, is_causal)[0]
    return _new_output(plan, q, values)


class _Plan(NamedTuple):
    """What a checked decode call computes: positions per user (None when data-free), scale, window, output."""
    positions: torch.Tensor | None
    scale: float
    window: int
    out_shape: tuple
    out_config: MemoryConfig


def _plan(q: Tensor, k: Tensor, v: Tensor, is_causal: bool, attn_mask, cur_pos, cur_pos_tensor, memory_config, *,
          attention_sink=None, scale=None, sliding_window_size=None, program_config=None, share_cache=None,
          compute_kernel_config=None) -> _Plan:
    """Check the call as 0.81.1 does and say what it computes."""
    if attention_sink is not None or share_cache:
        not_emulated(OP, "attention_sink / share_cache")
    if any(p < 0 for p in cur_pos):
        raise TypeError(f"{OP}(): incompatible function arguments (cur_pos values are uint32, got {list(cur_pos)})")
    out_config = memory_config or DRAM_MEMORY_CONFIG
    _validate(q, k, v, is_causal, attn_mask, cur_pos, cur_pos_tensor, out_config, program_config)
    _check_grid(q, program_config)
    _, batch, heads, head_dim = tuple(q.shape)
    users = k.padded_shape[0]
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    out_shape = (1, users, q.padded_shape[2] if PAD_OUTPUT_HEADS else heads, head_dim)
    if not is_causal:
        positions = torch.full((users,), k.padded_shape[2] - 1, dtype=torch.int64)
    elif cur_pos_tensor is not None:
        positions = int_values(cur_pos_tensor, OP)
        positions = None if positions is None else positions[:users]
    else:
        positions = torch.tensor(list(cur_pos), dtype=torch.int64)
    if positions is not None:
        positions = positions[torch.arange(users) % positions.numel()]  # a short cur_pos list repeats cyclically
    return _Plan(positions, scale, sliding_window_size or 0, out_shape, out_config)


def _new_output(plan: _Plan, q: Tensor, values: torch.Tensor | None) -> Tensor:
    """The op's output on q's device: ``values`` (one chip's, logical), or none (data-free, or computed elsewhere)."""
    values = torch.empty(plan.out_shape, device="meta") if values is None else pad_to(values, plan.out_shape)
    layout = Layout.ROW_MAJOR if q.layout == Layout.ROW_MAJOR else Layout.TILE
    return new_tensor(values, dtype=q.dtype, layout=layout, device=q.device(), memory_config=plan.out_config,
                      tile=q.tile)


def _validate(q: Tensor, k: Tensor, v: Tensor, is_causal: bool, attn_mask, cur_pos, cur_pos_tensor,
              out_config: MemoryConfig, program_config) -> None:
    for t in (q, k, v):  # messages built only when raising (enum names and lists cost per op)
        on_device(t, OP, "Operands to SDPA need to be on device!")
        if t.dtype not in SDPA_DTYPES:
            raise fatal(OP, f"Unsupported data type {t.dtype.name}.")
        if len(t.shape) != 4:
            raise fatal(OP, f"SDPA decode inputs must be 4D but got {list(t.shape)}")
    for t in (k, v):
        check(t.layout == Layout.TILE, OP, "Inputs to SDPA must be tilized except for Q")
    q_padded, k_padded, v_padded = (tuple(t.padded_shape) for t in (q, k, v))
    q_config = q.memory_config()
    if q.is_sharded():
        check(q_config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED, OP,
              f"Q tensor memory layout must be HEIGHT_SHARDED when sharded but got {q_config.memory_layout.name}")
    elif q_config.buffer_type != BufferType.DRAM:
        raise fatal(OP, f"Q tensor buffer type must be DRAM when not sharded but got {q_config.buffer_type.name}")
    for i, t in ((1, k), (2, v)):
        if t.memory_config().buffer_type != BufferType.DRAM:
            raise fatal(OP, f"Input tensor {i} buffer type must be DRAM but got {t.memory_config().buffer_type.name}")
    if out_config.is_sharded():
        check(out_config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED, OP,
              f"Output memory config layout must be HEIGHT_SHARDED when sharded but got "
              f"{out_config.memory_layout.name}")
    if not is_causal:
        if attn_mask is not None:
            _check_mask(attn_mask, q, k_padded)
    else:
        check(attn_mask is None, OP,
              "attn_mask must not be provided when is_causal=True. Pass is_causal=False to use an explicit mask.")
        given = (len(cur_pos) > 0) + (cur_pos_tensor is not None)
        check(given == 1, OP, "exactly one of cur_pos and cur_pos_tensor must be given for causal decode")
        if cur_pos_tensor is not None:
            on_device(cur_pos_tensor, OP, "cur_pos_tensor must be on device")
            check(cur_pos_tensor.dtype == DataType.INT32, OP, f"Expect cur_pos to be INT32, got {cur_pos_tensor.dtype.name}")
            check(cur_pos_tensor.layout == Layout.ROW_MAJOR, OP,
                  f"Expect cur_pos to be ROW_MAJOR, got {cur_pos_tensor.layout.name}")
            shape = cur_pos_tensor.shape
            check(cur_pos_tensor.logical_volume() == shape[-1], OP, "cur_pos tensor must hold all positions in its "
                                                                    f"last dim (e.g. [B] or [1, B]), got shape {shape}")
            check(cur_pos_tensor.padded_shape[-1] >= q_padded[1], OP, "cur_pos tensor must have at least one position "
                                                                      f"per batch ({q_padded[1]}), got shape {shape}")
    users = q_padded[1]
    check(k_padded[0] == users, OP, f"K tensor batch size ({k_padded[0]}) must equal B ({users})")
    check(v_padded[0] == users, OP, f"V tensor batch size ({v_padded[0]}) must equal B ({users})")
    check(q_padded[0] == 1, OP, f"Q tensor batch size must be 1 for decode mode but got {q_padded[0]}")
    check(k_padded[-2] == v_padded[-2], OP, f"K and V tensors must have the same sequence length. "
                                            f"K: {k_padded[-2]}, V: {v_padded[-2]}")
    chunk = _k_chunk_size(k.shape[-2], program_config)
    check(k_padded[2] % chunk == 0, OP, f"K sequence length must be multiple of chunk size, got: {k_padded[2]} and "
                                        f"{chunk}")
    check(k_padded[-1] == q_padded[-1], OP, f"K tensor hidden dimension ({k_padded[-1]}) must equal Q tensor hidden "
                                            f"dimension ({q_padded[-1]})")
    check(v_padded[-1] == q_padded[-1], OP, f"V tensor hidden dimension ({v_padded[-1]}) must equal Q tensor hidden "
                                            f"dimension ({q_padded[-1]})")
    for p in cur_pos:
        check(p < k_padded[-2], OP, "cur_pos must be <= K sequence dim")
    check(k_padded[1] == v_padded[1], OP, f"Flash decode expects K and V to have same number of heads, but got "
                                          f"{k_padded[1]} and {v_padded[1]}")
    if k_padded[1] > 1:
        check(not out_config.is_sharded(), OP, "Sharded output not supported for GQA")
        check(q.dtype == DataType.BFLOAT16, OP, f"GQA expects BFLOAT16 input tensor, but got {q.dtype.name}")
        check(q.shape[2] % k_padded[1] == 0, OP, f"GQA expects Q to have a multiple of K heads, but got "
                                                 f"{q.shape[2]} and {k_padded[1]}")


def _check_grid(q: Tensor, program_config) -> None:
    """A config's grid: no more cores than the device has, and at least one per user."""
    if program_config is None:
        return
    grid, device_grid = program_config.compute_with_storage_grid_size, q.device().compute_with_storage_grid_size()
    cores = grid.x * grid.y
    check(cores <= device_grid.x * device_grid.y, OP,
          f"Cores available ({cores}) exceeds grid size ({device_grid.x * device_grid.y})")
    check(cores >= q.shape[1], OP, f"Cores available ({cores}) must be >= batch size ({q.shape[1]})")


def _k_chunk_size(seq: int, program_config) -> int:
    """The wrapper's k chunk: a user's power-of-two choice, else the largest power-of-two divisor
    of the logical cache length, capped at 512."""
    chunk = getattr(program_config, "k_chunk_size", 0) or 0
    if chunk > 0:
        check(chunk & (chunk - 1) == 0, OP, f"User provided k_chunk_size must be power of 2, got: {chunk}")
        check(chunk % 32 == 0, OP, f"User provided k_chunk_size must be multiple of 32, got: {chunk}")
        return chunk
    i = 1
    while i < seq and seq % (1 << (i + 1)) == 0:
        i += 1
    chunk = min(512, 1 << i)
    check(chunk % 32 == 0, OP, f"Chunk size must be multiple of 32, but the maximum calculated k_chunk_size is: {chunk}")
    return chunk


def _check_mask(mask: Tensor, q: Tensor, k_padded: tuple) -> None:
    on_device(mask, OP, "attn_mask must be on device")
    m_padded, m_shape = tuple(mask.padded_shape), tuple(mask.shape)
    check(m_padded[2] == q.padded_shape[2], OP, f"Expect same number of padded heads in mask as in Q, got "
                                                f"{m_padded[2]} and {q.padded_shape[2]}")
    check(m_shape[2] == q.shape[2], OP, f"Expect same number of heads in mask as in Q, got {m_shape[2]} and {q.shape[2]}")
    check(m_padded[3] == k_padded[2], OP, f"Expect same sequence length in mask as in K, got {m_padded[3]} and "
                                          f"{k_padded[2]}")
    check(mask.dtype in SDPA_DTYPES, OP, f"Unsupported data type for mask tensor: {mask.dtype.name}.")


def _attend(q: Tensor, k: Tensor, v: Tensor, chips: int, mask: Tensor | None, positions: torch.Tensor, scale: float,
            window: int, is_causal: bool) -> torch.Tensor:
    """Logical outputs ``[chips, 1, B, nh, hd]``: one device's (``chips`` 1), or every chip's of mesh tensors (no
    ``mask`` then), chip c's query heads against chip c's caches; the chips' heads are computed as more kv heads."""
    _, _, heads, head_dim = tuple(q.shape)
    users, kv_heads, seq = k.padded_shape[0], k.padded_shape[1], k.padded_shape[2]
    out = torch.zeros(chips, 1, users, heads, head_dim)
    active = positions >= 0
    if not bool(active.any()):
        return out
    bad = positions >= seq
    if bool(bad.any()):
        raise fatal(OP, f"cur_pos {int(positions[bad][0])} is past the K sequence length {seq} "
                        "(the card would read out of bounds)")
    every = bool(active.all())
    rows = None if every else torch.nonzero(active).flatten()
    pos = positions if every else positions[rows]
    length = int(pos.max()) + 1
    query = q._values(OP)[0] if chips == 1 else torch.cat([c[0] for c in chip_values(q, OP)], dim=1)  # [B, chips*nh, hd]
    if rows is not None:
        query = query.index_select(0, rows)
    n, group, all_kv = query.shape[0], heads // kv_heads, chips * kv_heads
    query = query.reshape(n, all_kv, group, head_dim)
    bias = _bias(pos, length, window, is_causal)
    bias = None if bias is None else bias.view(n, 1, 1, length)
    user_mask = None if mask is None else _user_mask(mask, users, heads, length, rows).view(n, kv_heads, group, length)
    result = torch.empty(n, all_kv, group, head_dim)
    # Users go through in blocks whose float32 K/V prefix stays cache-sized: one batched matmul
    # over all users streams twice through memory and is several times slower at long prefixes.
    block = max(1, _BLOCK_BYTES // (all_kv * length * head_dim * 8))
    for start in range(0, n, block):
        part = slice(start, min(start + block, n))
        users_in = part if rows is None else rows[part]
        keys = _read_prefixes(k, chips, length, users_in)  # [block, chips * nkv, L, hd]
        values = _read_prefixes(v, chips, length, users_in)
        scores = torch.matmul(query[part], keys.transpose(-1, -2)).mul_(scale)
        if bias is not None:
            scores += bias[part]
        if user_mask is not None:
            scores += user_mask[part]
        torch.matmul(torch.softmax(scores, dim=-1), values, out=result[part])
    result = result.reshape(n, chips, heads, head_dim).transpose(0, 1)
    if rows is None:
        out[:, 0] = result
    else:
        out[:, 0, rows] = result
    return out


def _read_prefixes(cache: Tensor, chips: int, length: int, users) -> torch.Tensor:
    """float32 cache prefixes ``[users, chips * nkv, L, hd]``: one device's, or every chip's heads side by side."""
    if chips == 1:
        return read_prefix(cache, length, users, OP)
    return read_prefix_all_chips(cache, chips, length, users, OP)


def _bias(pos: torch.Tensor, length: int, window: int, is_causal: bool) -> torch.Tensor | None:
    """Additive -inf bias per user for keys past its position or outside its sliding window
    (``j > p - w`` causal, ``j >= p - w // 2`` otherwise); None if every user sees the whole prefix."""
    if not window and bool((pos == length - 1).all()):
        return None
    j = torch.arange(length).unsqueeze(0)
    hidden = j > pos.unsqueeze(1)
    if window:
        first = pos - window + 1 if is_causal else pos - window // 2
        hidden |= j < first.unsqueeze(1)
    return torch.zeros(hidden.shape).masked_fill_(hidden, float("-inf"))


def _user_mask(mask: Tensor, users: int, heads: int, length: int, rows: torch.Tensor | None) -> torch.Tensor:
    """The additive mask rows ``[n, heads, length]`` of the attending users. A decode mask is
    ``[B | 1, 1, heads, S]`` (users on dim 0, one broadcast to all); ``[1, B, heads, S]`` is read
    with users on dim 1."""
    values = pad_to(mask._values(OP), tuple(mask.padded_shape))
    batch_dim = 1 if values.shape[1] != 1 else 0
    per_user = values[:, 0] if batch_dim == 0 else values[0]
    index = torch.arange(users) % per_user.shape[0]
    if rows is not None:
        index = index[rows]
    return per_user.index_select(0, index)[:, :heads, :length]
