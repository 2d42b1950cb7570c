"""Dependency audit: pip-audit over the app's environment, or a loud refusal when it cannot run.

pip-audit needs a vulnerability service: PyPI's per-release JSON API or OSV. Before auditing
every package it asks about one (pip itself) through each service; a service that cannot
tell whether that one release is vulnerable (no answer, or "not found on PyPI") cannot audit
the rest either, and nothing is asked about the others.

Exit 0: audited, no known vulnerability. Exit 1: vulnerabilities (or a package that could not
be audited) listed above. Exit 3: no vulnerability service answers from this machine, so the
audit did NOT run (a mirror that serves packages is not enough).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
SERVICES = ("pypi", "osv")
CANNOT_RUN = 3


def _probe(service: str) -> str:
    """'' if ``service`` can audit a release here, else why not."""
    with tempfile.TemporaryDirectory() as folder:
        requirement = Path(folder) / "probe.txt"
        requirement.write_text(f"pip=={version('pip')}\n", encoding="utf-8")
        command = [str(PIP_AUDIT), "-s", service, "-r", str(requirement), "--no-deps", "--disable-pip"]
        command += ["--format", "json", "--progress-spinner", "off", "--timeout", "20"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"pip-audit -s {service} failed: {last}"
    skipped = [dep.get("skip_reason", "") for dep in report.get("dependencies", []) if "skip_reason" in dep]
    return f"pip-audit -s {service}: {skipped[0]}" if skipped else ""


def main() -> int:
    reasons = []
    for service in SERVICES:
        reason = _probe(service)
        if not reason:
            print(f"audit: auditing every installed package through {service}", flush=True)
            command = [
                str(PIP_AUDIT),
                "-s",
                service,
                "--strict",
                "--skip-editable",
                "--progress-spinner",
                "off",
            ]
            return subprocess.run(command, check=False).returncode
        reasons.append(reason)
    print("=" * 78, file=sys.stderr)
    print("DEPENDENCY AUDIT NOT RUN: no vulnerability service answers from this machine.", file=sys.stderr)
    for reason in reasons:
        print(f"  {reason}", file=sys.stderr)
    print(
        "pip-audit needs PyPI's per-release JSON API or OSV; run `make audit` where one is reachable.",
        file=sys.stderr,
    )
    print("=" * 78, file=sys.stderr)
    return CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main())
