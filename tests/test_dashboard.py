"""The dashboard without a browser: controls from the schema, what requests may carry, the
server's refusals, and `credsim dashboard` on the command line."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

import credsim
from credsim.cli import app
from credsim.dashboard import inputs, levers, view
from credsim.dashboard.inputs import BadRequest, resolve_request
from credsim.dashboard.runs import safe_name
from credsim.scenario.schema import Scenario


# ---------------------------------------------------------------- controls


def test_every_lever_is_a_scenario_key_with_a_sentence():
    assert set(levers.LEVERS) == set(levers.SENTENCES)
    for key in levers.LEVERS:
        levers.field_info(key)  # exists in the schema
        assert levers.SENTENCES[key].endswith(".") and len(levers.SENTENCES[key]) > 30


def test_controls_take_type_range_and_value_from_the_schema_and_scenario():
    specs = {s["key"]: s for s in levers.specs(credsim.load_scenario("seed"))}
    assert (specs["recognition.false_match_rate"]["min"], specs["recognition.false_match_rate"]["max"]) == (0.0, 0.1)
    assert specs["recognition.false_match_rate"]["value"] == 0.0002
    assert specs["scoring.network_weight"]["max"] == 0.9
    assert specs["channels.cameras.coverage"]["kind"] == "float" and specs["channels.cameras.coverage"]["max"] == 1.0
    assert all(specs[f"sanctions.{s}.enabled"]["kind"] == "bool" for s in levers.SANCTIONS)
    assert specs["lists.naming"]["value"] is True
    # the dashboard's tighter bounds, inside the schema's
    assert (specs["population.agents"]["min"], specs["population.agents"]["max"]) == (1_000, 200_000)
    assert specs["run.steps"]["kind"] == "years" and specs["run.steps"]["value"] == 10
    assert (specs["run.steps"]["min"], specs["run.steps"]["max"]) == (1, 30)


def test_a_switched_off_channel_shows_coverage_zero_and_setting_it_switches_it_on():
    base = credsim.load_scenario("baseline")
    assert levers.current(base, "channels.cameras.coverage") == 0.0
    overrides = levers.overrides({"channels.cameras.coverage": 0.5, "run.steps": 2})
    assert overrides == {"channels.cameras.enabled": True, "channels.cameras.coverage": 0.5, "run.steps": 24}
    sc = credsim.load_scenario(base, overrides=overrides)
    assert sc.channels.cameras.enabled and levers.changes(base, sc) == ["cameras coverage 50%"]


def test_the_page_draws_columns_every_row_has(run_small):
    row = run_small("seed", agents=2000, steps=2).timeseries.iloc[-1]
    assert set(view.COLUMNS) <= set(row.index)


# ---------------------------------------------------------------- requests


def issues_of(request) -> list[tuple[str, str]]:
    try:
        resolved = resolve_request(request)
    except BadRequest as exc:
        return [(i.control, i.message) for i in exc.issues]
    return [(i.control, i.message) for i in resolved.issues]


def test_control_values_are_checked_by_the_schema_and_shown_at_their_control():
    ok = resolve_request({"scenario": "seed", "values": {"population.agents": 2000, "run.steps": 2,
                                                         "lists.naming": False}})
    assert ok.issues == [] and isinstance(ok.scenario, Scenario)
    assert (ok.scenario.population.agents, ok.scenario.run.steps, ok.scenario.lists.naming) == (2000, 24, False)
    [(control, message)] = issues_of({"scenario": "seed", "values": {"recognition.false_match_rate": 0.5}})
    assert control == "recognition.false_match_rate" and "0.1" in message
    [(control, message)] = issues_of({"scenario": "seed", "values": {"population.agents": 5_000_000}})
    assert control == "population.agents" and "200,000" in message
    [(control, message)] = issues_of({"scenario": "seed", "values": {"run.steps": 31}})
    assert control == "run.steps" and "30 years" in message


@pytest.mark.parametrize("request_, control, words", [
    ({"scenario": "../seed.toml"}, "scenario", "built-in"),
    ({"scenario": "/etc/passwd"}, "scenario", "built-in"),
    ({"scenario": "seed", "values": {"output.report": False}}, "scenario", "not a control"),
    ({"scenario": "seed", "values": {"lists.naming": "import os"}}, "lists.naming", "number or true/false"),
    ({"upload": {"name": "x.toml", "text": 'extends = "/etc/passwd"'}}, "upload", "reads no files"),
    ({"upload": {"name": "x.toml", "text": 'extends = "seed.toml"'}}, "upload", "reads no files"),
    ({"upload": {"name": "x.toml", "text": "[lists\nnaming = 1"}}, "upload", "not valid TOML"),
    ({"upload": {"name": "x.toml", "text": "[lists]\nnamin = false"}}, "upload", "did you mean"),
    ({"upload": {"name": "x.toml", "text": "#" * (inputs.MAX_UPLOAD + 1)}}, "upload", "at most"),
    ({"upload": "/etc/passwd"}, "upload", "text of a .toml file"),
])
def test_requests_carry_no_paths_and_no_code(request_, control, words):
    found = issues_of(request_)
    assert found and found[0][0] == control and words in found[0][1], found


def test_an_uploaded_file_extends_a_built_in_and_is_checked_like_a_file():
    text = 'extends = "seed"\nname = "my-seed"\n[lists]\nnaming = false\n[population]\nagents = 5000\n'
    resolved = resolve_request({"upload": {"name": "mine.toml", "text": text}, "values": {"run.steps": 1}})
    sc = resolved.scenario
    assert (sc.name, sc.lists.naming, sc.population.agents, sc.run.steps) == ("my-seed", False, 5000, 12)
    assert resolved.source == "upload:mine.toml"
    big = resolve_request({"upload": {"name": "big.toml", "text": "[population]\nagents = 1000000"}})
    assert big.scenario is None and big.issues[0].control == "population.agents"


def test_file_names_made_from_scenario_names_stay_in_their_folder():
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("seed · naming off") == "seed-naming-off"
    assert safe_name("..") == "run"


# ---------------------------------------------------------------- the server


def call(url: str, path: str, body=None, content_type="application/json", host: str | None = None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, method="GET" if data is None else "POST")
    if data is not None:
        req.add_header("Content-Type", content_type)
    if host:
        req.add_header("Host", host)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_page_loads_nothing_from_elsewhere(dashboard_url):
    status, headers, body = call(dashboard_url, "")
    page = body.decode()
    assert status == 200 and "default-src 'self'" in headers["content-security-policy"]
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    for name in ("static/charts.js", "static/dashboard.js", "static/dashboard.css"):
        status, _, body = call(dashboard_url, name)
        assert status == 200 and b"https://" not in body and b"http://" not in body.replace(b"http://www.w3.org", b"")


def test_the_server_refuses_other_hosts_non_json_and_unknown_things(dashboard_url):
    assert call(dashboard_url, "", host="evil.example:80")[0] == 400  # DNS rebinding
    assert call(dashboard_url, "api/runs", b'{"scenario": "seed"}', content_type="text/plain")[0] == 415
    assert call(dashboard_url, "api/runs", b"{not json")[0] == 400
    assert call(dashboard_url, "static/..%2Fserver.py")[0] == 404
    assert call(dashboard_url, "api/runs/r999/download")[0] == 404
    status, _, body = call(dashboard_url, "api/runs", {"upload": {"name": "x.toml", "text": 'extends = "/etc/passwd"'}})
    assert status == 400 and json.loads(body)["problems"][0]["control"] == "upload"
    status, _, body = call(dashboard_url, "api/resolve", {"scenario": "safeguards", "values": {"lists.appeals": 3}})
    assert status == 200 and json.loads(body)["problems"][0]["control"] == "lists.appeals"


# ---------------------------------------------------------------- the command line


def test_a_port_in_use_is_a_user_mistake():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = CliRunner().invoke(app, ["dashboard", "--port", str(port)])
    assert r.exit_code == 2 and f"--port {port}" in r.output and "Traceback" not in r.output


def test_another_host_than_loopback_is_served_with_a_warning(monkeypatch):
    import credsim.dashboard.server as server

    served = []
    monkeypatch.setattr(server, "serve", lambda sock, host: served.append(host))
    r = CliRunner().invoke(app, ["dashboard", "--host", "0.0.0.0", "--port", "0"])
    assert r.exit_code == 0 and served == ["0.0.0.0"]
    assert "warning: --host 0.0.0.0" in r.output and "no login" in r.output
    r = CliRunner().invoke(app, ["dashboard", "--port", "0"])
    assert r.exit_code == 0 and "warning" not in r.output and "http://127.0.0.1:" in r.output


def test_import_credsim_does_not_import_the_server():
    import subprocess
    import sys

    code = "import credsim, sys; print(any(m.startswith(('credsim.dashboard', 'starlette', 'uvicorn')) for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
