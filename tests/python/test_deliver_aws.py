"""AWS Secrets Manager delivery against moto's real server: the secret created and tagged when
missing, a new version put when present, AWSCURRENT verified; a secret scheduled for deletion
and missing credentials refused before any reset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

import wayfinder_tokens as wft
from support import cli_env
from wayfinder_tokens.testing import Emulator

AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-canary", "AWS_REGION": "us-east-1"}


def secrets_manager(moto: str) -> Any:
    # boto3 warns that it will leave Python 3.9 behind; the suite turns warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", boto3.exceptions.PythonDeprecationWarning)
        return boto3.client(
            "secretsmanager",
            endpoint_url=moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret-canary",
        )


def wf(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wayfinder_tokens", *args], capture_output=True, text=True, env=env, timeout=60
    )


def works(emulator: Emulator, secret: str) -> None:
    with wft.Client(server=emulator.url, token=secret, timeout=10) as c:
        c.whoami()


def test_cli_creates_then_versions_the_secret(emulator: Emulator, tmp_path: Path, moto: str) -> None:
    env = dict(cli_env(emulator.url, tmp_path), AWS_ENDPOINT_URL=moto, **AWS)
    name = f"ci/{os.getpid()}/cli-app"
    out = wf("create", "workspaceaccesstoken", "cli-app", "--deliver", f"aws:ci/{os.getpid()}/{{name}}", env=env)
    assert out.returncode == 0, out.stderr
    assert f"delivered to aws:{name}" in out.stdout and "is AWSCURRENT" in out.stdout, out.stdout
    sm = secrets_manager(moto)
    value = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert value["WAYFINDER_WORKSPACE"] == "dev" and value["WAYFINDER_SERVER"] == emulator.url
    works(emulator, value["WAYFINDER_TOKEN"])
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name)["Tags"]}
    assert tags["wayfinder-tokens:token"] == "cli-app" and tags["wayfinder-tokens:generation"] == "1"
    assert value["WAYFINDER_TOKEN"] not in json.dumps(tags) and "testing-secret-canary" not in out.stderr

    out = wf("create", "workspaceaccesstoken", "cli-app", "--reset-token", "--deliver", f"aws:{name}", env=env)
    assert out.returncode == 0, out.stderr
    newer = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["WAYFINDER_TOKEN"]
    assert newer != value["WAYFINDER_TOKEN"]
    works(emulator, newer)
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name)["Tags"]}
    assert tags["wayfinder-tokens:generation"] == "2"


def test_refused_before_any_reset(emulator: Emulator, tmp_path: Path, moto: str) -> None:
    env = dict(cli_env(emulator.url, tmp_path), AWS_ENDPOINT_URL=moto, **AWS)
    old = wf("create", "workspaceaccesstoken", "kept", "--show-token", env=env).stdout.strip()
    sm = secrets_manager(moto)
    doomed = f"ci/{os.getpid()}/doomed"
    sm.create_secret(Name=doomed, SecretString="{}")
    sm.delete_secret(SecretId=doomed, RecoveryWindowInDays=7)
    out = wf("create", "workspaceaccesstoken", "kept", "--reset-token", "--deliver", f"aws:{doomed}", env=env)
    assert out.returncode == 2 and "scheduled for deletion" in out.stderr, out
    no_region = {k: v for k, v in env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    no_region["AWS_CONFIG_FILE"] = str(tmp_path / "none")
    out = wf("create", "workspaceaccesstoken", "kept", "--reset-token", "--deliver", "aws:x", env=no_region)
    assert out.returncode == 2 and "no AWS region" in out.stderr, out
    remote = dict(env, AWS_ENDPOINT_URL="http://secretsmanager.example.com")
    out = wf("create", "workspaceaccesstoken", "kept", "--reset-token", "--deliver", "aws:x", env=remote)
    assert out.returncode == 2 and "plain HTTP" in out.stderr, out
    works(emulator, old)


def test_library_delivers_to_aws(
    client: wft.Client, emulator: Emulator, tmp_path: Path, moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {**AWS, "AWS_ENDPOINT_URL": moto, "XDG_STATE_HOME": str(tmp_path / "state")}.items():
        monkeypatch.setenv(key, value)
    name = f"ci/{os.getpid()}/lib-app"
    issued = client.create_workspace_access_token("lib-app", deliver=f"aws:{name}?prefix=APP_")
    assert issued.delivery is not None and issued.delivery.ok, issued.delivery
    value = json.loads(secrets_manager(moto).get_secret_value(SecretId=name)["SecretString"])
    assert value["APP_WAYFINDER_TOKEN"] == issued.token
