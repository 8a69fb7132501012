"""Tokens as code from Python and the command line: `load_spec` with every problem located,
`plan`/`apply`/`check` on both clients, the CLI's exit codes, the JSON Schema agreeing with the
parser, and an apply killed halfway finished by the next one without a second reset."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

import wayfinder_tokens as wft
from support import ADMIN, cli_env, load_vectors
from wayfinder_tokens.testing import Emulator

REPO = Path(__file__).resolve().parents[2]


def wf(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wayfinder_tokens", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def spec_text(tmp_path: Path, gate: Path | None = None) -> str:
    command = f"cmd:sh -c 'while [ ! -e {gate} ]; do sleep 0.05; done; cat > {tmp_path / 'received'}'"
    deliver = [f"file:{tmp_path / 'app.env'}"] + ([command] if gate else [])
    return (
        "apiVersion: wayfinder-tokens/v1\n"
        "tokens:\n"
        "  - name: app\n"
        "    workspace: dev\n"
        "    description: Deploys the app\n"
        "    roles: {wayfinder: [workspace.viewer]}\n"
        f"    deliver: {json.dumps(deliver)}\n"
        "    rotate: {maxAge: 30d}\n"
        "  - name: web\n"
        "    workspace: dev\n"
        f'    deliver: ["file:{tmp_path / "web.yaml"}?format=kubernetes"]\n'
        "    rotate: {strategy: slots}\n"
    )


@pytest.mark.parametrize("case", load_vectors("token_specs.json")["cases"], ids=lambda c: c["name"])
def test_specs_read_as_the_shared_cases_say(case: dict[str, Any]) -> None:
    if not case["errors"]:
        spec = wft.parse_spec(case["yaml"], "tokens.yaml")
        assert len(spec) == len(case["tokens"])
        return
    with pytest.raises(wft.ValidationError) as e:
        wft.parse_spec(case["yaml"], "tokens.yaml")
    got = [(f.field, f.code, f.message.split(" ")[0]) for f in e.value.field_errors]
    want = [(x["field"], x["code"], f"tokens.yaml:{x['line']}:{x['column']}:") for x in case["errors"]]
    assert got == want


def test_the_json_schema_agrees_with_the_parser() -> None:
    schema = json.loads(wft.spec_schema())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    example = yaml.safe_load((REPO / "examples" / "tokens.yaml").read_text())
    assert list(validator.iter_errors(example)) == []
    wft.load_spec(REPO / "examples" / "tokens.yaml")
    for case in load_vectors("token_specs.json")["cases"]:
        try:
            document = yaml.safe_load(case["yaml"])
        except yaml.YAMLError:
            continue
        parsed = True
        try:
            wft.parse_spec(case["yaml"])
        except wft.ValidationError:
            parsed = False
        # What the parser accepts, the schema accepts; the parser refuses more (duplicates across
        # entries, placeholders against the scope, slots' destinations, anchors).
        if validator.is_valid(document):
            assert parsed or case["name"].startswith(("duplicate", "slots need", "anchors")), case["name"]
        if parsed:
            assert validator.is_valid(document), case["name"]


def test_plan_apply_and_nothing_the_second_time(emulator: Emulator, tmp_path: Path) -> None:
    spec = tmp_path / "tokens.yaml"
    spec.write_text(spec_text(tmp_path))
    loaded = wft.load_spec(spec)
    assert loaded.tokens == ["dev/app", "dev/web"] and "tokens=2" in repr(loaded)
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev") as wf_client:
        plan = wf_client.plan(loaded)
        assert plan and plan.has_changes
        assert [c["action"] for c in plan.changes] == ["create", "grant", "deliver", "create", "deliver", "create"]
        assert "<table>" in plan._repr_html_() and plan.to_records()[0]["action"] == "create"
        report = wf_client.apply(plan)
        report.raise_for_failure()
        assert report.ok and len(report) == 6 and "<table>" in report._repr_html_()
        secret = (tmp_path / "app.env").read_text()
        assert "WAYFINDER_TOKEN=" in secret
        emulator.reset_stats()
        again = wf_client.apply(spec)
        assert len(again) == 0 and not wf_client.plan(spec)
        writes = {k: v for k, v in emulator.stats()["requests"].items() if not k.startswith("GET ")}
        assert writes == {}
        assert (tmp_path / "app.env").read_text() == secret
        due = wf_client.check(spec, within="31d")
        assert [(d.token, d.due) for d in due] == [("app", True), ("web", False)]
        assert wf_client.check(spec)[0].due is False


def test_the_async_client_plans_and_applies(emulator: Emulator, tmp_path: Path) -> None:
    spec = tmp_path / "tokens.yaml"
    spec.write_text(spec_text(tmp_path))

    async def main() -> tuple[wft.Plan, wft.ApplyReport, wft.Plan]:
        async with wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev") as client:
            plan = await client.plan(spec)
            report = await client.apply(spec)
            return plan, report, await client.plan(spec, rotate=["web"])

    plan, report, rotation = asyncio.run(main())
    assert len(plan) == 6 and report.ok
    [rotate] = [c for c in rotation.changes if c["action"] == "rotate"]
    assert rotate["target"] == "web-b" and rotate["reasons"] == [{"reason": "requested"}]


def test_a_stale_plan_is_refused(emulator: Emulator, tmp_path: Path) -> None:
    spec = tmp_path / "tokens.yaml"
    spec.write_text(spec_text(tmp_path))
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev") as c:
        plan = c.plan(spec)
        c.create_workspace_access_token("app")
        with pytest.raises(wft.ConfigError, match="out of date"):
            c.apply(plan)
        with pytest.raises(wft.ValidationError, match="rotate"):
            c.plan(spec, rotate=["nope"])
        with pytest.raises(wft.ValidationError):
            c.apply(plan, rotate=["app"])


def test_the_cli_exit_codes_follow_terraform(emulator: Emulator, tmp_path: Path) -> None:
    env = cli_env(emulator.url, tmp_path)
    spec = tmp_path / "tokens.yaml"
    spec.write_text(spec_text(tmp_path))
    out = wf("plan", "-f", str(spec), "--detailed-exitcode", env=env)
    assert out.returncode == 2, out.stderr
    assert out.stdout.splitlines()[0] == "+ create dev/app: a new token and its first secret"
    out = wf("apply", "-f", str(spec), env=env)
    assert out.returncode == 0, out.stderr
    assert "Apply: 6 done, 0 failed." in out.stdout
    out = wf("plan", "-f", str(spec), "--detailed-exitcode", "-o", "json", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["changes"] == []
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: wayfinder-tokens/v1\ntokens:\n  - name: a\n    workspace: dev\n    color: blue\n")
    out = wf("plan", "-f", str(broken), "--detailed-exitcode", env=env)
    assert out.returncode == 1 and f"{broken}:5:5: tokens[0].color is not a known key" in out.stderr
    assert wf("plan", "-f", str(broken), env=env).returncode == 2
    out = wf("check", "-f", str(spec), "--within", "40d", env={**env, "GITHUB_ACTIONS": "true"})
    assert out.returncode == 2
    assert out.stdout.startswith("::warning title=Rotation due for dev/app::dev/app is due to rotate at ")
    out = wf("check", "-f", str(spec), env=env)
    assert out.returncode == 0 and out.stdout.startswith("WORKSPACE")
    assert json.loads(wf("schema", env=env).stdout)["properties"]["apiVersion"]["const"] == "wayfinder-tokens/v1"


def test_an_apply_killed_halfway_is_finished_by_the_next_without_a_second_reset(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = cli_env(emulator.url, tmp_path)
    gate = tmp_path / "go"
    gate.touch()
    spec = tmp_path / "tokens.yaml"
    spec.write_text(spec_text(tmp_path, gate))
    assert wf("apply", "-f", str(spec), env=env).returncode == 0
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev") as c:
        generation = c.get_workspace_access_token("app").generation
    gate.unlink()
    # Killed while the command destination waits: the new secret is issued, the file has it,
    # the command does not.
    cli = subprocess.Popen(
        [sys.executable, "-m", "wayfinder_tokens", "apply", "-f", str(spec), "--rotate", "app"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    store = tmp_path / "state" / "wayfinder-tokens"
    deadline = time.monotonic() + 30
    while not list(store.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    cli.send_signal(signal.SIGKILL)
    cli.communicate(timeout=30)
    [pending] = list(store.glob("*.json"))
    secret = json.loads(pending.read_text())["token"]
    gate.touch()
    out = wf("plan", "-f", str(spec), env=env)
    assert "> deliver dev/app: the secret waiting in the recovery store" in out.stdout, out.stdout
    assert "rotate" not in out.stdout.split("Plan:")[0]
    out = wf("apply", "-f", str(spec), env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "received").read_text() == secret
    assert f"WAYFINDER_TOKEN={secret}" in (tmp_path / "app.env").read_text()
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev") as c:
        assert c.get_workspace_access_token("app").generation == generation + 1, "reset once"
    assert list(store.glob("*.json")) == []
    assert wf("plan", "-f", str(spec), "--detailed-exitcode", env=env).returncode == 0
