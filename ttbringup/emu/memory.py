"""Per-chip device memory: banked allocators that charge every device tensor its real size.

A Wormhole chip has 12 DRAM banks and 64 L1 banks (one per worker core). Like tt-metal's bank
manager, each buffer type keeps one address space that is the same in every bank: an
interleaved buffer of N pages takes ``ceil(N / banks)`` aligned pages at one address in every
bank; a sharded buffer takes one shard at one address in every bank. First fit, bottom up.
"""

from __future__ import annotations

import bisect
import functools
import operator
import warnings

from dataclasses import dataclass

from . import nd_sharding
from .errors import OutOfMemoryError
from .types import BufferType, DataType, Layout, MemoryConfig, Tile, round_up

DRAM_BANKS = 12
DRAM_BANK_SIZE = 1_072_693_184
DRAM_ALIGNMENT = 32
L1_BANKS = 64
L1_BANK_SIZE = 1_393_312
L1_ALIGNMENT = 16  # what ttnn.get_l1_alignment() reports; the bank allocator itself rounds L1 pages to 32 B
PAGE_ALIGNMENT = 32  # measured on 0.81.1: pages (and buffers) are rounded to 32 B in DRAM and L1 alike

# Bytes of one 32x32 tile in each dtype (block floats: 64 shared exponents + mantissas).
TILE_BYTES = {
    DataType.BFLOAT16: 2048,
    DataType.FLOAT32: 4096,
    DataType.BFLOAT8_B: 1088,
    DataType.BFLOAT4_B: 576,
    DataType.UINT32: 4096,
    DataType.INT32: 4096,
    DataType.UINT16: 2048,
    DataType.UINT8: 1024,
    DataType.INT8: 1024,
    DataType.FP8_E4M3: 1024,
}
ELEMENT_BYTES = {
    DataType.BFLOAT16: 2,
    DataType.FLOAT32: 4,
    DataType.UINT32: 4,
    DataType.INT32: 4,
    DataType.UINT16: 2,
    DataType.UINT8: 1,
    DataType.INT8: 1,
    DataType.FP8_E4M3: 1,
}


def page_layout(padded_shape, dtype: DataType, layout: Layout, tile: Tile) -> tuple[int, int]:
    """(number of pages, page size in bytes) of a tensor: a page is a tile, or a row."""
    volume = 1
    for d in padded_shape:
        volume *= d
    if layout == Layout.TILE:
        tile_elems = tile.height * tile.width
        page = TILE_BYTES[dtype] * tile_elems // 1024
        return volume // tile_elems, page
    width = padded_shape[-1] if len(padded_shape) else 1
    return (volume // width if width else 0), width * ELEMENT_BYTES[dtype]


@dataclass
class Region:
    address: int
    size: int


_address = operator.attrgetter("address")


class BankAllocator:
    """First-fit allocator over one per-bank address space, with usage and peak."""

    def __init__(self, chip_id: int, buffer_type: BufferType, num_banks: int, bank_size: int, alignment: int):
        self.chip_id = chip_id
        self.buffer_type = buffer_type
        self.num_banks = num_banks
        self.bank_size = bank_size
        self.alignment = alignment
        self._free = [Region(0, bank_size)]
        self._used = {}
        self.used_per_bank = 0
        self.peak_per_bank = 0

    def allocate(self, size_per_bank: int, total_bytes: int | None = None, banks: int | None = None) -> int:
        """Reserve ``size_per_bank`` bytes at one address in every bank; return the address.

        ``total_bytes`` and ``banks`` only word the out-of-memory message as the card does
        (a sharded buffer names its shard cores as banks).
        """
        alignment = self.alignment
        size = max(-(-size_per_bank // alignment) * alignment, alignment)  # round_up, inlined: runs per op output
        for i, region in enumerate(self._free):
            if region.size >= size:
                address = region.address
                region.address += size
                region.size -= size
                if region.size == 0:
                    del self._free[i]
                self._used[address] = size
                self.used_per_bank += size
                self.peak_per_bank = max(self.peak_per_bank, self.used_per_bank)
                return address
        largest = max((r.size for r in self._free), default=0)
        total = total_bytes if total_bytes is not None else size * self.num_banks
        raise OutOfMemoryError(
            f"Out of Memory: Not enough space to allocate {total} B {self.buffer_type.name} buffer across "
            f"{banks or self.num_banks} banks, where each bank needs to store {size} B, but bank size is "
            f"{self.bank_size} B (allocated: {self.used_per_bank} B, free: {self.bank_size - self.used_per_bank} B, "
            f"largest free block: {largest} B) on chip {self.chip_id}"
        )

    def free(self, address: int) -> None:
        size = self._used.pop(address)
        self.used_per_bank -= size
        i = bisect.bisect(self._free, address, key=_address)  # the list stays sorted by address; merge both ways
        if i > 0 and self._free[i - 1].address + self._free[i - 1].size == address:
            i -= 1
            self._free[i].size += size
        else:
            self._free.insert(i, Region(address, size))
        if i + 1 < len(self._free) and self._free[i].address + self._free[i].size == self._free[i + 1].address:
            self._free[i].size += self._free.pop(i + 1).size

    def used_bytes(self) -> int:
        return self.used_per_bank * self.num_banks

    def unused_above(self) -> int:
        """Bytes per bank above the highest allocated byte (the whole bank when empty)."""
        return self.bank_size - max((a + size for a, size in self._used.items()), default=0)

    def peak_bytes(self) -> int:
        return self.peak_per_bank * self.num_banks

    def total_bytes(self) -> int:
        return self.bank_size * self.num_banks

    def free_bytes(self) -> int:
        return self.total_bytes() - self.used_bytes()


class ChipMemory:
    """The DRAM and L1 allocators of one emulated Wormhole chip."""

    def __init__(self, chip_id: int, dram_reserved_per_bank: int = 0):
        self.chip_id = chip_id
        self.dram = BankAllocator(chip_id, BufferType.DRAM, DRAM_BANKS, DRAM_BANK_SIZE - dram_reserved_per_bank,
                                  DRAM_ALIGNMENT)
        self.l1 = BankAllocator(chip_id, BufferType.L1, L1_BANKS, L1_BANK_SIZE, PAGE_ALIGNMENT)

    def allocator(self, buffer_type: BufferType) -> BankAllocator:
        return self.dram if buffer_type == BufferType.DRAM else self.l1


def bytes_per_bank(padded_shape, dtype, layout, tile, memory_config: MemoryConfig) -> int:
    """What one bank holds of a tensor under ``memory_config`` (interleaved or sharded)."""
    if memory_config.nd_shard_spec is not None:
        return nd_sharding.bytes_per_bank(padded_shape, dtype, layout, tile, memory_config, TILE_BYTES,
                                          ELEMENT_BYTES)
    pages, page_size = page_layout(padded_shape, dtype, layout, tile)
    alignment = PAGE_ALIGNMENT
    aligned_page = round_up(page_size, alignment)
    spec = memory_config.shard_spec
    if memory_config.is_sharded() and spec is not None:
        shard_h, shard_w = spec.shape
        if layout == Layout.TILE:
            shard_pages = (round_up(shard_h, tile.height) // tile.height) * (round_up(shard_w, tile.width) // tile.width)
        else:
            shard_pages = shard_h
            aligned_page = round_up(shard_w * ELEMENT_BYTES[dtype], alignment)
        return shard_pages * aligned_page
    banks = DRAM_BANKS if memory_config.buffer_type == BufferType.DRAM else L1_BANKS
    return -(-pages // banks) * aligned_page


def buffer_request(padded_shape, dtype, layout, tile, memory_config: MemoryConfig) -> dict:
    """Arguments for :class:`Buffer`: bytes per bank, total bytes and banks (for messages)."""
    return dict(zip(("size_per_bank", "total_bytes", "banks"),
                    buffer_size(tuple(padded_shape), dtype, layout, tile, memory_config)))


@functools.lru_cache(maxsize=4096)  # an op's outputs repeat a few shapes: this runs for every output
def buffer_size(padded_shape: tuple, dtype, layout, tile, memory_config: MemoryConfig) -> tuple:
    """``buffer_request`` as the positional ``(size_per_bank, total_bytes, banks)`` of :class:`Buffer`."""
    pages, page_size = page_layout(padded_shape, dtype, layout, tile)
    spec = memory_config.nd_shard_spec or memory_config.shard_spec
    banks = spec.num_cores() if memory_config.is_sharded() and spec is not None else None
    return bytes_per_bank(padded_shape, dtype, layout, tile, memory_config), pages * page_size, banks


_allocation_suppressed = False
_warned_unsafe = False
UNSAFE_ALLOCATION = ("Allocating device buffers is unsafe due to the existence of an active trace. These buffers "
                     "may be corrupted once a trace is executed.")


def _warn_unsafe_allocation() -> None:
    """Warn, once per process as 0.81.1 does, about allocating while a trace exists and no capture is open."""
    global _warned_unsafe
    if not _warned_unsafe:
        _warned_unsafe = True
        warnings.warn(UNSAFE_ALLOCATION, RuntimeWarning, stacklevel=4)


def suppress_allocation(on: bool) -> None:
    """While on, new buffers take no device memory (``execute_trace`` copies replayed results into the buffers
    the capture allocated)."""
    global _allocation_suppressed
    _allocation_suppressed = on


class Buffer:
    """A device allocation shared by a tensor and its views; ``deallocate`` kills them all."""

    __slots__ = ("device", "buffer_type", "size_per_bank", "addresses", "alive")

    def __init__(self, device, buffer_type: BufferType, size_per_bank: int, total_bytes: int | None = None,
                 banks: int | None = None):
        self.device = device
        self.buffer_type = buffer_type
        self.size_per_bank = size_per_bank
        self.addresses = []
        self.alive = True
        if not device.is_open:
            device._check_open()
        if _allocation_suppressed:  # a trace replay: its outputs land in the buffers fixed at capture
            return
        if device._traces.allocations_unsafe:
            _warn_unsafe_allocation()
        try:
            for chip in device._chips:
                self.addresses.append(chip.allocator(buffer_type).allocate(size_per_bank, total_bytes, banks))
        except OutOfMemoryError:
            self._release()
            raise

    @classmethod
    def joined(cls, parts: list["Buffer"], device) -> "Buffer":
        """One mesh buffer made of one single-chip buffer per chip of ``device`` (in chip order); the parts hand
        their allocations over and no longer free them."""
        b = cls.__new__(cls)
        b.device, b.buffer_type, b.size_per_bank = device, parts[0].buffer_type, parts[0].size_per_bank
        b.addresses, b.alive = [a for p in parts for a in p.addresses[:1]], True
        for p in parts:
            p.addresses, p.alive = [], False
        return b

    def _release(self):
        for chip, address in zip(self.device._chips, self.addresses):
            chip.allocator(self.buffer_type).free(address)
        self.addresses = []

    def free(self) -> None:
        if self.alive:
            self.alive = False
            if self.device.is_open:
                self._release()

    def __del__(self):
        # The last tensor (or view) on this buffer is gone: the memory returns to the allocator, as on the card
        # (real ttnn frees a device buffer when its last Python reference is dropped, without ttnn.deallocate).
        try:
            self.free()
        except Exception:  # noqa: BLE001 - interpreter shutdown or a half-built buffer: nothing left to free
            pass


def usage(device) -> list[dict]:
    """Current and peak bytes per chip of an emulated device: one dict per chip."""
    report = []
    for chip in device._chips:
        row = {"chip": chip.chip_id}
        for name, alloc in (("dram", chip.dram), ("l1", chip.l1)):
            row[name] = {
                "used": alloc.used_bytes(),
                "peak": alloc.peak_bytes(),
                "total": alloc.total_bytes(),
                "free": alloc.free_bytes(),
            }
        report.append(row)
    return report
