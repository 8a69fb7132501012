"""The repository explains itself: the README's layout names every top-level entry."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_the_readme_layout_names_every_top_level_entry() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    entries = {path.split("/")[0] for path in tracked}
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Architecture", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"[\w.-]+", layout))
    missing = sorted(e for e in entries if e not in named)
    assert not missing, f"README's layout does not name: {missing}"
    assert not {"index.js", "index.d.ts", "npm", "bin"} & entries, "generated Node files belong in bindings-node/"


def test_workflows_pin_actions_to_commits_and_never_run_install_scripts_in_a_release() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    for workflow in workflows:
        for line in workflow.read_text().splitlines():
            uses = re.search(r"uses:\s*(\S+)", line)
            if uses and not uses.group(1).startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses.group(1)), f"{workflow.name}: {line.strip()}"
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    installs = re.findall(r"npm (?:ci|install)[^\n]*", release)
    assert installs and all("--ignore-scripts" in i for i in installs), installs
    assert release.count("--remap-path-prefix") >= 2


def test_the_sbom_scrubber_removes_the_checkout_path_and_keeps_record_true(tmp_path: Path) -> None:
    import base64
    import hashlib
    import runpy
    import zipfile

    scrub = runpy.run_path(str(ROOT / ".github" / "scripts" / "scrub_sbom.py"))["scrub"]
    checkout = tmp_path / "home" / "someone" / "src"
    checkout.mkdir(parents=True)
    sbom_name = "pkg-1.0.dist-info/sboms/pkg.cyclonedx.json"
    sbom = f'{{"bom-ref": "path+file://{checkout}/core#pkg@1.0"}}'.encode()
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/__init__.py", b"")
        z.writestr(sbom_name, sbom)
        z.writestr("pkg-1.0.dist-info/RECORD", f"pkg/__init__.py,,0\n{sbom_name},sha256=stale,{len(sbom)}\n")
    assert scrub(wheel, checkout) == 1
    with zipfile.ZipFile(wheel) as z:
        scrubbed = z.read(sbom_name)
        record = z.read("pkg-1.0.dist-info/RECORD").decode()
    assert str(checkout).encode() not in scrubbed and b"path+file:///build/core#pkg@1.0" in scrubbed
    digest = base64.urlsafe_b64encode(hashlib.sha256(scrubbed).digest()).rstrip(b"=").decode()
    assert f"{sbom_name},sha256={digest},{len(scrubbed)}" in record
    assert scrub(wheel, checkout) == 0
