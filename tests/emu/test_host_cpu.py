"""host_cpu: the thread count chosen next to busy neighbours."""

import importlib

import torch

host_cpu = importlib.import_module("ttbringup.emu.host_cpu")


def test_a_busy_core_elsewhere_costs_one_thread(monkeypatch):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        monkeypatch.setattr(host_cpu.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
        monkeypatch.setattr(host_cpu, "busy_cores_elsewhere", lambda seconds=0.25: 0.9)
        assert host_cpu.fit_threads() == 1 and torch.get_num_threads() == 1
        torch.set_num_threads(2)
        monkeypatch.setattr(host_cpu, "busy_cores_elsewhere", lambda seconds=0.25: 0.1)
        assert host_cpu.fit_threads() == 2
        monkeypatch.setattr(host_cpu, "busy_cores_elsewhere", lambda seconds=0.25: 5.0)
        assert host_cpu.fit_threads() == 1  # never fewer than one
    finally:
        torch.set_num_threads(before)

