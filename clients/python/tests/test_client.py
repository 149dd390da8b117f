"""faultline.Client against a real faultlined (see conftest.py): every method, the errors."""

from __future__ import annotations

import datetime
import importlib.metadata
import time

import pytest

import faultline
from conftest import http_get


def test_status_and_routes(client, daemon):
    status = client.status()
    assert status["seed"] == 7
    assert status["workers"] == 1
    assert [r["name"] for r in status["routes"]] == ["web", "link"]
    routes = client.routes()
    assert {r["name"]: r["protocol"] for r in routes} == {"web": "http", "link": "tcp"}
    web = client.route("web")
    assert web["bound"] == f"{daemon.web[0]}:{daemon.web[1]}"
    assert (web["from"], client.route("link")["from"], client.route("link")["to"]) == (None, "n1", "n2")


def test_apply_a_dict_with_keywords_then_clear_it(client, daemon):
    assert http_get(daemon.web, "/pay")[0] == 200
    stored = client.apply({"type": "abort", "route": "web", "status": 503}, mark=True, body="no\n")
    assert stored["id"].startswith("abort-")
    assert (stored["status"], stored["mark"], stored["probability"], stored["body"]) == (503, True, 1.0, "no\n")
    assert [f["id"] for f in client.faults()] == [stored["id"]]
    assert http_get(daemon.web, "/pay") == (503, b"no\n")
    assert client.clear(stored["id"]) == [stored["id"]]
    assert client.faults() == []
    assert http_get(daemon.web, "/pay")[0] == 200


def test_keywords_only_and_timedelta_durations(client, daemon):
    stored = client.apply(id="slow", type="delay", route="web", delay=datetime.timedelta(milliseconds=300), jitter=None)
    assert (stored["id"], stored["delay"], stored["jitter"], stored["phase"]) == ("slow", "300ms", "0s", "request")
    started = time.monotonic()
    assert http_get(daemon.web, "/")[0] == 200
    assert time.monotonic() - started >= 0.29
    assert faultline.duration(datetime.timedelta(seconds=2)) == "2s"
    assert faultline.duration(datetime.timedelta(microseconds=1500)) == "1500us"


def test_clear_everything(client):
    client.apply(id="one", type="blackhole", route="link")
    client.apply(id="two", type="latency", route="*", delay="1ms")
    assert sorted(client.clear()) == ["one", "two"]
    assert client.faults() == []
    assert client.clear() == []


def test_fault_context_manager_clears_on_exit_and_on_error(client, daemon):
    with client.fault(type="abort", route="web", status=429) as fault:
        assert [f["id"] for f in client.faults()] == [fault["id"]]
        assert http_get(daemon.web, "/")[0] == 429
    assert client.faults() == []
    assert http_get(daemon.web, "/")[0] == 200

    with pytest.raises(RuntimeError):
        with client.fault({"id": "boom", "type": "stall", "route": "link"}):
            raise RuntimeError("the code under test failed")
    assert client.faults() == []

    # A fault the block cleared itself is not an error on the way out.
    with client.fault(id="gone", type="stall", route="link"):
        client.clear("gone")
    assert client.faults() == []


def test_an_invalid_fault_says_what_and_where(client):
    with pytest.raises(faultline.InvalidError) as caught:
        client.apply(type="latency", route="link", delay="20x", colour="red")
    error = caught.value
    assert (error.status, error.code, error.path) == (422, "invalid_fault", "delay")
    assert error.message == '"20x" is not a duration'
    assert {"path": "colour", "message": "unknown key for type latency"} in error.errors
    assert isinstance(error, faultline.FaultlineError)
    assert str(error) == '422 invalid_fault: "20x" is not a duration (at delay)'

    with pytest.raises(faultline.InvalidError) as caught:
        client.apply(type="abort", route="web", status=503, match={"method": "GE T"})
    assert caught.value.path == "match.method"
    assert client.faults() == []


def test_apply_all_is_all_or_nothing(client):
    with pytest.raises(faultline.InvalidError) as caught:
        client.apply_all([
            {"type": "latency", "route": "link", "delay": "10ms"},
            {"type": "latency", "route": "link", "delay": "20x"},
        ])
    assert caught.value.path == "[1].delay"
    assert client.faults() == []
    stored = client.apply_all([
        {"type": "latency", "route": "link", "delay": "10ms"},
        {"type": "abort", "route": "web", "status": 503},
    ])
    assert [f["type"] for f in stored] == ["latency", "abort"]
    assert sorted(f["id"] for f in client.faults()) == sorted(f["id"] for f in stored)


def test_not_found_and_conflict(client):
    with pytest.raises(faultline.NotFoundError) as caught:
        client.clear("no-such-fault")
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    with pytest.raises(faultline.NotFoundError):
        client.route("no-such-route")
    client.apply(id="dup", type="blackhole", route="link")
    with pytest.raises(faultline.ConflictError) as caught:
        client.apply(id="dup", type="stall", route="link")
    assert (caught.value.status, caught.value.code) == (409, "fault_exists")
    assert [f["type"] for f in client.faults()] == ["blackhole"]


def test_unreachable(tmp_path):
    lonely = faultline.Client(socket=str(tmp_path / "nobody.sock"), timeout=1)
    with pytest.raises(faultline.UnreachableError) as caught:
        lonely.status()
    assert (caught.value.status, caught.value.code) == (None, "unreachable")


def test_partition_and_heal(client):
    cut = client.partition([["n1"], ["n2"]], id="cut", one_way=True)
    assert (cut["id"], cut["type"], cut["mode"], cut["one_way"]) == ("cut", "partition", "blackhole", True)
    assert cut["groups"] == [["n1"], ["n2"]]
    status = client.status()
    assert [f["id"] for f in status["faults"]] == ["cut"]
    assert "faultline_partition_links_blocked 1" in client.metrics()
    assert client.heal() == ["cut"]
    assert "faultline_partition_links_blocked 0" in client.metrics()

    isolated = client.partition(kind="isolate", node="n1", mode="reset")
    assert isolated["resolved"] == [[["n1"], ["n2"]]]
    client.apply(id="other", type="stall", route="link")
    assert client.heal(isolated["id"]) == [isolated["id"]]
    assert [f["id"] for f in client.faults()] == ["other"]
    assert client.heal() == []

    with pytest.raises(faultline.InvalidError) as caught:
        client.partition([["n1"], ["n9"]])
    assert caught.value.path == "groups[1][0]"


def test_journal_since_a_marker(client):
    before = client.journal()
    assert before and before[0]["event"] == "daemon.started"
    assert before.last == before[-1]["seq"]
    client.apply(id="lag", type="latency", route="link", delay="5ms")
    client.clear("lag")
    events = client.journal(since=before.last)
    assert [e["event"] for e in events] == ["fault.applied", "fault.cleared"]
    assert events[0]["fault"]["id"] == "lag"
    assert events[1]["id"] == "lag"
    assert events.last == events[-1]["seq"] and events.oldest >= 1
    applied = client.journal(since=before.last, event="fault.applied")
    assert len(applied) == 1 and applied.last == events.last
    assert client.journal(since=events.last) == []


def test_requests_and_report(client, daemon):
    mark = client.requests("web").last or 0
    client.apply(type="abort", route="web", status=503, attempts={"key": "header:x-request-id", "first": 2})
    statuses = [http_get(daemon.web, "/charge", {"X-Request-Id": "r-1"})[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    deadline = time.monotonic() + 3
    while len(client.requests("web", since=mark)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    log = client.requests("web", since=mark)
    assert [entry["status"] for entry in log] == [503, 503, 200]
    assert log.last == log[-1]["seq"]
    report = client.report(route="web", since=mark)
    assert (report["route"], report["requests"], report["injected"], report["groups"]) == ("web", 3, 2, 1)
    assert report["retries"]["max_attempts"] == 3
    assert client.report(route="web", since=mark, group_by="method+path")["group_by"] == "method+path"
    with pytest.raises(faultline.NotFoundError):
        client.report(route="nope")
    with pytest.raises(faultline.InvalidError) as caught:
        client.report(route="web", group_by="cookie")
    assert caught.value.code == "invalid_query"


def test_metrics_and_reload(client):
    text = client.metrics()
    assert 'faultline_build_info{version="' in text
    answer = client.reload()
    assert answer["reloaded"] is True and answer["routes"] == 2


def test_over_tcp_with_a_token(daemon):
    remote = faultline.Client(url=daemon.url, token_file=daemon.token_file)
    assert remote.status()["seed"] == 7
    with remote.fault(id="tcp-lag", type="latency", route="link", delay="1ms"):
        assert [f["id"] for f in remote.faults()] == ["tcp-lag"]
    with pytest.raises(faultline.AuthError) as caught:
        faultline.Client(url=daemon.url, token="wrong").status()
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    with pytest.raises(ValueError):
        faultline.Client(socket=daemon.socket, url=daemon.url)


def test_installed_without_runtime_dependencies_with_the_plugin_entry_point():
    assert not importlib.metadata.requires("faultline")
    plugins = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert plugins.get("faultline") == "faultline.pytest_plugin"
    assert faultline.__version__ == importlib.metadata.version("faultline")
