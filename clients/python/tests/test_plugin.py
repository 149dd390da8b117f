"""The pytest plugin's `faultline` fixture, in pytest runs of their own (pytester), against the
session's daemon."""

from __future__ import annotations

import os

import faultline

INNER = '''
import faultline as fl

def test_a_applies(faultline):
    assert isinstance(faultline, fl.Client)
    faultline.apply(id="leak-a", type="blackhole", route="link")
    assert [f["id"] for f in faultline.faults()] == ["leak-a"]

def test_b_applies_and_fails(faultline):
    faultline.partition([["n1"], ["n2"]], id="leak-b")
    assert False, "this test fails on purpose"

def test_c_starts_clean(faultline):
    assert faultline.faults() == []
'''


def test_fixture_clears_every_fault_after_each_test_passed_or_failed(pytester, client):
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*this test fails on purpose*"])
    assert client.faults() == []
    events = [e for e in client.journal() if e["event"] in ("fault.cleared", "partition.healed")]
    assert {(e["event"], e["id"], e["reason"]) for e in events[-2:]} == {
        ("fault.cleared", "leak-a", "clear_all"), ("partition.healed", "leak-b", "clear_all")}


def test_fixture_takes_the_socket_option(pytester, monkeypatch, daemon, client):
    monkeypatch.delenv("FAULTLINE_SOCKET")
    pytester.makepyfile(test_inner='''
def test_status(faultline):
    assert faultline.status()["seed"] == 7
    faultline.apply(id="opt", type="stall", route="link")
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--faultline-socket={daemon.socket}")
    result.assert_outcomes(passed=1)
    assert client.faults() == []


def test_fixture_skips_when_no_daemon_is_named(pytester, monkeypatch):
    if os.path.exists(faultline.DEFAULT_SOCKET):
        import pytest
        pytest.skip(f"{faultline.DEFAULT_SOCKET} exists here, so the fixture would use it")
    monkeypatch.delenv("FAULTLINE_SOCKET")
    monkeypatch.delenv("FAULTLINE_URL", raising=False)
    pytester.makepyfile(test_inner="def test_x(faultline):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no faultlined to talk to*"])
