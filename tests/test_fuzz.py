"""Fuzzed input: scenario files and --set values, valid and invalid, never give a traceback.

Every outcome is a finished run (exit 0) or exit status 2 with a message naming the key.
"""

from __future__ import annotations

import tomllib

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

from credsim.cli import app
from credsim.scenario.schema import Scenario

runner = CliRunner()


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        key = f"{prefix}{name}"
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _leaves(ann, key + ".")
        elif name not in ("timeline", "rules", "grades"):
            out.append(key)
    return out


KEYS = [k for k in _leaves(Scenario) if not k.startswith(("population.agents", "run.steps"))]
VALUES = st.one_of(
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-2.0, 2.0, allow_nan=False),
    st.sampled_from([0.0, 1.0, 0.5, 1e-9, 1e6, -1e6]),
    st.text("abcxyz_ .", max_size=6),
    st.lists(st.floats(0, 1, allow_nan=False), max_size=5),
)
TYPOS = st.sampled_from(["scoring.decy", "lists.naimng", "sanctionz.travel.enabled", "population.agentz",
                         "channels.camera.coverage", "behaviour.legitimacy.x"])


def _assignment(key, value) -> str:
    text = tomli_w.dumps({"v": value})[4:].strip()
    return f"{key}={text}"


def _check(result, keys) -> None:
    out = result.output
    assert "Traceback" not in out and "internal error" not in out, out
    assert result.exit_code in (0, 2), (result.exit_code, out)
    if result.exit_code == 2:
        assert any(k.split(".")[0] in out for k in keys) or "population" in out, out


SMALL = ["--agents", "300", "--steps", "3", "--quiet"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sets=st.lists(st.tuples(st.sampled_from(KEYS) | TYPOS, VALUES), min_size=1, max_size=4),
       base=st.sampled_from(["seed", "baseline", "court-blacklist", "sesame"]))
def test_fuzzed_set_values(tmp_path_factory, sets, base):
    args = ["run", base, *SMALL, "--out", str(tmp_path_factory.mktemp("r") / "out")]
    for key, value in sets:
        args += ["--set", _assignment(key, value)]
    _check(runner.invoke(app, args, catch_exceptions=False), [k for k, _ in sets])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(st.sampled_from(KEYS) | TYPOS, VALUES, min_size=1, max_size=5),
       timeline=st.lists(st.fixed_dictionaries({"at": st.one_of(st.integers(-2, 4), st.sampled_from(["year 1", "step 2", "soon"])),
                                                "set": st.dictionaries(st.sampled_from(KEYS) | TYPOS, VALUES, max_size=2)}),
                         max_size=2))
def test_fuzzed_scenario_files(tmp_path_factory, doc, timeline):
    data: dict = {"extends": "seed"}
    for key, value in doc.items():
        node = data
        parts = key.split(".")
        ok = True
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                ok = False
                break
            node = nxt
        if ok:
            node[parts[-1]] = value
    if timeline:
        data["timeline"] = timeline
    folder = tmp_path_factory.mktemp("f")
    path = folder / "fuzz.toml"
    path.write_text(tomli_w.dumps(data))
    tomllib.loads(path.read_text())
    keys = list(doc) + ["timeline"]
    _check(runner.invoke(app, ["validate", str(path)], catch_exceptions=False), keys)
    _check(runner.invoke(app, ["run", str(path), *SMALL, "--out", str(folder / "out")], catch_exceptions=False), keys)
