"""Differential op table: every single-chip case in cases.py on the real ttnn 0.81.1 (mock n150) and on the
emulator (the mesh cases: test_conformance_mesh.py).

Accept/reject must agree; for accepted calls the logical shape, padded shape, dtype, layout, storage and memory
config (buffer type, memory layout, shard shape/grid/orientation) must agree. The terminal summary prints the
disagreement table and ``conformance: N/M cases agree``.
"""

import inspect

import pytest

from cases import CASES, ERR, NOT_OPS, OK, OPS
from conformance_harness import NOT_EMULATED, Record, format_description, run, run_real_cases

pytestmark = pytest.mark.conformance
CHIP_CASES = [c for c in CASES if c.mesh is None]


def detail(rec: Record) -> str:
    def side(o):
        return f"{o[0]}: {format_description(o[1]) if o[0] == OK else o[1]}"

    return f"{rec.case.id}\n  real:     {side(rec.real)}\n  emulator: {side(rec.emu)}"


@pytest.fixture(scope="session")
def real_outcomes(request, real_ttnn):
    """Outcomes on the real wheel of every selected case, computed once in child processes (crash-isolated)."""
    selected = [item.callspec.params["case"].id for item in request.session.items
                if getattr(item, "callspec", None) is not None and "case" in item.callspec.params]
    return run_real_cases([i for i in selected if any(c.id == i and c.real and c.mesh is None for c in CASES)])


def check_record(rec: Record) -> None:
    """The assertions every differential case makes (single-chip and mesh alike)."""
    case = rec.case
    if case.intentional:
        # Documented difference: the emulator does `expect`; the real wheel (when it can be run) does not.
        assert rec.emu[0] == case.expect, f"intentional difference no longer holds on the emulator:\n{detail(rec)}"
        if case.real:
            assert rec.real[0] != case.expect, ("the real wheel now behaves like the emulator: drop the "
                                                f"intentional-difference note\n{detail(rec)}")
        return
    assert rec.label_ok, f"cases.py says expect={case.expect}, but the real wheel disagrees:\n{detail(rec)}"
    assert rec.emu[0] != NOT_EMULATED, f"not emulated:\n{detail(rec)}"
    assert rec.agrees, f"emulator and real ttnn disagree:\n{detail(rec)}"


@pytest.mark.parametrize("case", CHIP_CASES, ids=[c.id for c in CHIP_CASES])
def test_case(case, real_outcomes, emu, emu_device, conformance_report):
    real = real_outcomes.get(case.id) or run(case, None, None, is_real=True)  # a case with real=False: "skipped"
    rec = Record(case, real, run(case, emu, emu_device, is_real=False))
    conformance_report.add(rec)
    check_record(rec)


def _emulator_exports():
    """Public callables the emulator exports as ttnn ops (functions and not-emulated stand-ins)."""
    from ttbringup import emu
    from ttbringup.emu.errors import NotEmulated

    names = set()
    for prefix, module in (("", emu), ("experimental.", emu.experimental), ("transformer.", emu.transformer)):
        for name, obj in vars(module).items():
            if name.startswith("_") or inspect.ismodule(obj) or name == "not_emulated_getattr":
                continue
            if inspect.isfunction(obj) or isinstance(obj, NotEmulated):
                names.add(prefix + name)
    return names


def test_table_covers_every_emulated_op():
    missing = sorted(n for n in _emulator_exports() if n not in OPS and n not in NOT_OPS)
    assert not missing, f"the emulator exports ops with no differential cases: {missing} (add cases, or NOT_OPS)"
    counted = [c for c in CASES if not c.intentional]
    lacking = [(op, kind) for op in OPS for kind in (OK, ERR) if not any(c.op == op and c.expect == kind for c in counted)]
    assert not lacking, f"ops without an accepted and a rejected case: {lacking}"
