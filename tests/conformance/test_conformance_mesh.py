"""Differential table on meshes: every mesh case (mesh_cases.py) on the real ttnn 0.81.1 (mock n300 / T3000, in a
child process per mesh shape) and on the emulator's mesh of the same shape; the same agreement rules as the
single-chip table, counted in the same agreement figure."""

import pytest

from cases import CASES
from conformance_harness import Record, close_case_device, open_case_device, run, run_real_cases
from test_conformance_alloc import MESH_SEQUENCE, _close, _real_mesh_steps, play_mesh
from test_conformance_ops import check_record

pytestmark = pytest.mark.conformance
MESH_CASES = [c for c in CASES if c.mesh is not None]


@pytest.fixture(scope="session")
def real_mesh_outcomes(request, real_ttnn):
    selected = {item.callspec.params["case"].id for item in request.session.items
                if getattr(item, "callspec", None) is not None and "case" in item.callspec.params}
    outcomes = {}
    for shape in sorted({c.mesh for c in MESH_CASES}):
        ids = [c.id for c in MESH_CASES if c.mesh == shape and c.real and c.id in selected]
        if ids:
            outcomes.update(run_real_cases(ids, mesh=shape))
    return outcomes


@pytest.mark.parametrize("case", MESH_CASES, ids=[f"{c.id}@{c.mesh[0]}x{c.mesh[1]}" for c in MESH_CASES])
def test_mesh_case(case, real_mesh_outcomes, emu, conformance_report):
    real = real_mesh_outcomes.get(case.id) or run(case, None, None, is_real=True)
    mesh = open_case_device(emu, case.mesh)
    try:
        rec = Record(case, real, run(case, emu, mesh, is_real=False))
    finally:
        close_case_device(emu, mesh, case.mesh)
    conformance_report.add(rec)
    check_record(rec)


def test_allocator_sequence_per_chip_on_a_mesh(real_ttnn, emu, summary_line):
    real = _real_mesh_steps()
    mesh = open_case_device(emu, (1, 2))
    try:
        em = play_mesh(emu, mesh, on_emulator=True)
    finally:
        close_case_device(emu, mesh, (1, 2))
    bad = []
    for step, (r_out, r_chips), (e_out, e_chips) in zip(MESH_SEQUENCE, real, em):
        same = r_out == e_out and all(_close(r[0], e[0]) and _close(r[1], e[1]) for r, e in zip(r_chips, e_chips))
        if not same:
            bad.append(f"{step[0]} {step[1]}: real {r_out} {r_chips} / emulator {e_out} {e_chips}")
    ooms = [next((i for i, s in enumerate(x) if s[0].startswith("oom")), None) for x in (real, em)]
    summary_line(f"allocator on a 1x2 mesh: {len(MESH_SEQUENCE) - len(bad)}/{len(MESH_SEQUENCE)} steps agree per chip; "
                 f"first OOM at step {ooms[0]} (real) / {ooms[1]} (emulator)")
    assert ooms[0] is not None, "the mesh sequence never ran out of memory on the real wheel"
    assert not bad, "\n".join(bad)
