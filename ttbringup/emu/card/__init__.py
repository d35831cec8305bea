"""Bit-exact models of how a Wormhole B0 Tensix core computes (the emulator's card numerics).

Self-contained primitives on whole tensors of 32-bit words (see ``formats``), one hardware unit per
module: ``unpacker`` (L1 -> Src), ``fpu`` (fidelity phases, MVMUL / ELWMUL / ELWADD into Dst),
``dst`` (the Dst register and datacopy into it), ``packer`` (Dst -> L1: bf16 / fp32 / bfp8_b /
bfp4_b, L1 accumulation), ``sfpu`` (vector-unit FMA and bf16 rounding), ``tiles`` (face layout).
The rules are those of tests/data/card_golden/README.md (Tenstorrent's ttsim, Wormhole), which the
tests reproduce bit for bit.  Card-mode ttnn.matmul / linear use them as their reference path
(``ttbringup.emu.card_matmul``).
"""

from . import dst, formats, fpu, packer, sfpu, tiles, unpacker

__all__ = ["dst", "formats", "fpu", "packer", "sfpu", "tiles", "unpacker"]
