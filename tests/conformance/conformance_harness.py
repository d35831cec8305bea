"""Run a differential case on one ttnn module, describe what came back, compare the real and emulated outcomes.

An outcome is ``("ok", description)``, ``("error", message)``, ``("not-emulated", message)`` (the emulator lacks the
op: always a disagreement) ``("skipped", reason)`` (the case is not run on the real wheel) or ``("crash", how)`` (the real wheel killed the
process: real cases run in child processes, restarted after a crash, see :func:`run_real_cases`). A description keeps
only what a mock device can tell: per tensor the logical shape, padded shape, dtype, layout, storage and memory
config (buffer type, memory layout, shard shape, shard grid, orientation). Values are never looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

OK, ERR, NOT_EMULATED, SKIPPED, CRASH = "ok", "error", "not-emulated", "skipped", "crash"


def _name(value) -> str:
    """Enum member name, the same for nanobind enums and Python enums ("DataType.BFLOAT16" -> "BFLOAT16")."""
    return str(value).split(".")[-1].split("::")[-1]


def describe_memory_config(mc):
    if mc is None:
        return None
    spec = mc.shard_spec
    shard = None
    if spec is not None:
        ranges = sorted((r.start.x, r.start.y, r.end.x, r.end.y) for r in spec.grid.ranges())
        shard = (tuple(spec.shape), tuple(ranges), _name(spec.orientation))
    return (_name(mc.buffer_type), _name(mc.memory_layout), shard)


def describe(ttnn, x):
    """A hashable, module-independent description of a case result."""
    if isinstance(x, ttnn.Tensor):
        if not x.is_allocated():
            return ("tensor", "deallocated")
        return ("tensor", tuple(x.shape), tuple(x.padded_shape), _name(x.dtype), _name(x.layout),
                _name(x.storage_type()), describe_memory_config(x.memory_config()))
    if isinstance(x, ttnn.MemoryConfig):
        return ("memory_config", describe_memory_config(x))
    if isinstance(x, torch.Tensor):
        return ("torch", tuple(x.shape), str(x.dtype))
    if isinstance(x, (tuple, list)):
        return tuple(describe(ttnn, e) for e in x)
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return ("other", type(x).__name__)


def format_description(desc) -> str:
    if isinstance(desc, tuple) and desc and desc[0] == "tensor" and len(desc) == 7:
        _, shape, padded, dtype, layout, storage, mc = desc
        where = storage if mc is None else "/".join(mc[:2]) + (f" shard={list(mc[2][0])} grid={list(mc[2][1])} "
                                                              f"{mc[2][2]}" if mc[2] else "")
        pad = "" if shape == padded else f" pad {list(padded)}"
        return f"{list(shape)}{pad} {dtype} {layout} {where}" + ("" if storage == "DEVICE" or mc is None else f" ({storage})")
    if isinstance(desc, tuple) and desc and desc[0] == "memory_config":
        mc = desc[1]
        return "MemoryConfig " + "/".join(mc[:2]) + (f" shard={list(mc[2][0])} grid={list(mc[2][1])} {mc[2][2]}"
                                                     if mc[2] else "")
    if isinstance(desc, tuple) and desc and desc[0] == "torch":
        return f"torch {list(desc[1])} {desc[2]}"
    if isinstance(desc, tuple) and desc and all(isinstance(e, tuple) for e in desc):
        return " ; ".join(format_description(e) for e in desc)
    return repr(desc)


def error_text(err: BaseException) -> str:
    """The human part of an error: real ttnn puts it after 'info:' and before the C++ backtrace."""
    msg = str(err).split("backtrace:")[0]
    if "info:" in msg:
        msg = msg.split("info:", 1)[1]
    msg = " ".join(msg.split())
    return f"{type(err).__name__}: {msg[:300]}"


def run(case, ttnn, device, *, is_real: bool):
    """The outcome of one case on one module."""
    if is_real and not case.real:
        return (SKIPPED, "not run on the real wheel: " + (case.intentional or ""))
    try:
        out = (OK, describe(ttnn, case.fn(ttnn, device)))  # the case's tensors are freed when it returns
    except NotImplementedError as err:  # the emulator's NotEmulatedError
        out = (NOT_EMULATED if not is_real else ERR, error_text(err))
    except Exception as err:  # noqa: BLE001 - any rejection counts as "rejected"
        out = (ERR, error_text(err))
    return out


def agree(real, emu) -> bool:
    if real[0] == OK and emu[0] == OK:
        return real[1] == emu[1]
    return real[0] == ERR and emu[0] == ERR


def diff_fields(real_desc, emu_desc) -> str:
    """Which tensor fields differ (for the disagreement table)."""
    names = ("kind", "shape", "padded", "dtype", "layout", "storage", "memory_config")

    def one(r, e):
        if isinstance(r, tuple) and isinstance(e, tuple) and len(r) == len(e) == 7 and r[0] == e[0] == "tensor":
            return [n for n, a, b in zip(names, r, e) if a != b]
        return ["value"] if r != e else []

    if (isinstance(real_desc, tuple) and isinstance(emu_desc, tuple) and real_desc and emu_desc
            and all(isinstance(x, tuple) for x in real_desc + emu_desc) and len(real_desc) == len(emu_desc)
            and real_desc[0] and real_desc[0][0] == "tensor"):
        fields = sorted({f for r, e in zip(real_desc, emu_desc) for f in one(r, e)})
    else:
        fields = one(real_desc, emu_desc)
    return ",".join(fields) or "-"


@dataclass
class Record:
    case: object
    real: tuple
    emu: tuple

    @property
    def agrees(self) -> bool:
        return agree(self.real, self.emu)

    @property
    def label_ok(self) -> bool:
        """The case table's ``expect`` matches what the real wheel did (skipped and intentional cases: their
        ``expect`` is the emulator's behaviour, checked by the test)."""
        return self.real[0] == SKIPPED or bool(self.case.intentional) or self.real[0] == self.case.expect


@dataclass
class Report:
    records: dict = field(default_factory=dict)

    def add(self, rec: Record):
        self.records[rec.case.id] = rec

    def counted(self):
        return [r for r in self.records.values() if not r.case.intentional]

    def intentional(self):
        return [r for r in self.records.values() if r.case.intentional]

    def figure(self) -> str:
        counted = self.counted()
        n = sum(r.agrees for r in counted)
        m = len(counted)
        pct = 100.0 * n / m if m else 0.0
        return f"conformance: {n}/{m} cases agree ({pct:.1f}%)"

    def lines(self) -> list[str]:
        out = []
        bad = [r for r in self.counted() if not r.agrees]
        if bad:
            out.append(f"disagreements ({len(bad)}):")
            out.append(f"  {'case':62} {'real':50} | emulator")
            for r in bad:
                out.append(f"  {r.case.id:62} {_short(r.real):50} | {_short(r.emu)}")
                if r.real[0] == OK and r.emu[0] == OK:
                    out.append(f"  {'':62} differs in: {diff_fields(r.real[1], r.emu[1])}")
        wrong_labels = [r for r in self.records.values() if not r.label_ok]
        if wrong_labels:
            out.append(f"case-table labels that do not match the real wheel ({len(wrong_labels)}):")
            for r in wrong_labels:
                out.append(f"  {r.case.id}: expect={r.case.expect} real={_short(r.real)}")
        if self.intentional():
            out.append(f"documented intentional differences (not counted, {len(self.intentional())}):")
            for r in self.intentional():
                out.append(f"  {r.case.id}: real={_short(r.real)} | emulator={_short(r.emu)}")
                out.append(f"      why: {r.case.intentional}")
        out.append(self.figure())
        return out


def _short(outcome) -> str:
    kind, what = outcome
    text = format_description(what) if kind == OK else str(what)
    return f"{kind}: {text}"[:200]


# ---------------------------------------------------------------------------------------------------------------
# real cases in child processes: an invalid call can segfault the real wheel (e.g. to_torch of a freed tensor)
def _to_tuples(x):
    return tuple(_to_tuples(e) for e in x) if isinstance(x, list) else x


MESH_DESCRIPTORS = {(1, 2): "wormhole_N300.yaml", (2, 4): "wormhole_T3000.yaml"}


def run_real_cases(case_ids: list[str], timeout: float = 900.0, mesh: tuple | None = None) -> dict:
    """Outcomes of ``case_ids`` on the real wheel, run in a child process (mock n150, or the mock cluster of
    ``mesh``) that is restarted after the case that crashed it; that case's outcome is ``("crash", ...)``. Needs
    the mock-mode environment."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    env, mesh_arg = dict(os.environ), []
    if mesh is not None:
        env["TT_METAL_MOCK_CLUSTER_DESC_PATH"] = os.path.join(
            os.path.dirname(os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"]), MESH_DESCRIPTORS[tuple(mesh)])
        mesh_arg = [f"{mesh[0]}x{mesh[1]}"]
    results, remaining = {}, list(case_ids)
    while remaining:
        with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as f:
            f.write("\n".join(remaining))
            ids_file = f.name
        out_file = ids_file[:-4] + ".out"
        try:
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), ids_file, out_file, *mesh_arg],
                                  capture_output=True, text=True, timeout=timeout, cwd=os.getcwd(), env=env)
            started = None
            for line in open(out_file).read().splitlines() if os.path.exists(out_file) else []:
                rec = json.loads(line)
                if "start" in rec:
                    started = rec["start"]
                else:
                    results[rec["id"]] = _to_tuples(rec["outcome"])
                    started = None
        finally:
            for p in (ids_file, out_file):
                if os.path.exists(p):
                    os.unlink(p)
        if started is None and proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
            raise RuntimeError(f"the real-ttnn case runner failed before any case (exit {proc.returncode}):\n{tail}")
        if started is not None:
            sig = -proc.returncode if proc.returncode < 0 else None
            results[started] = (CRASH, f"the real wheel killed the process ({'signal ' + str(sig) if sig else 'exit ' + str(proc.returncode)})")
        remaining = [i for i in remaining if i not in results]
    return results


def open_case_device(ttnn, mesh: tuple | None):
    """The device a case runs on: chip 0, or a mesh opened as a real multi-chip run opens it (fabric first)."""
    if mesh is None:
        return ttnn.open_device(device_id=0)
    ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)
    return ttnn.open_mesh_device(ttnn.MeshShape(*mesh))


def close_case_device(ttnn, device, mesh: tuple | None) -> None:
    if mesh is None:
        ttnn.close_device(device)
        return
    ttnn.close_mesh_device(device)
    ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)


def _child(ids_file: str, out_file: str, mesh: str | None = None) -> None:
    import json
    import os
    import sys

    os.environ.setdefault("TT_LOGGER_LEVEL", "off")
    os.environ.setdefault("LOGURU_LEVEL", "INFO")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ttnn  # the real wheel (this child never registers the emulator)

    torch.set_num_threads(1)

    from cases import CASES

    by_id = {c.id: c for c in CASES}
    wanted = [i for i in open(ids_file).read().splitlines() if i]
    shape = None if mesh is None else tuple(int(x) for x in mesh.split("x"))
    device = open_case_device(ttnn, shape)
    with open(out_file, "a") as out:
        for case_id in wanted:
            out.write(json.dumps({"start": case_id}) + "\n")
            out.flush()
            outcome = run(by_id[case_id], ttnn, device, is_real=True)
            out.write(json.dumps({"id": case_id, "outcome": outcome}) + "\n")
            out.flush()
    close_case_device(ttnn, device, shape)


if __name__ == "__main__":
    import sys as _sys

    _child(*_sys.argv[1:4])
