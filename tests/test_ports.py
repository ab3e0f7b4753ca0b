"""Two pytest workers pick ports for their servers at the same time: their picks never meet, stay out of
the kernel's ephemeral range, and a port picked but not yet bound is not picked again."""

from __future__ import annotations

import socket

import pytest

from tests import ports


def test_two_workers_pick_from_their_own_slices_below_the_ephemeral_range(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    slices = []
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(ports._slice())
    first, second = slices
    assert first.stop <= second.start and len(first) > 1000 and len(second) > 1000
    assert ports.LOW == first.start and second.stop <= ports._ephemeral_start()
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT")
    assert ports._slice() == range(ports.LOW, ports._ephemeral_start())  # alone: all of it


def test_a_picked_port_is_free_and_not_picked_again():
    picked = [ports.free_port() for _ in range(50)]
    assert len(set(picked)) == 50
    with socket.socket() as s:
        s.bind(("127.0.0.1", picked[-1]))  # free indeed
