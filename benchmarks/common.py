"""Small pieces shared by the benchmark scripts (``run.py``, ``speed.py``, ``suite.py``).

Only the standard library is imported here, so a driver that launches fits as child
processes can use it without paying for ``import torch``.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def append_record(path: str | Path, record: dict, *, echo: bool = True) -> None:
    """Append ``record`` as one JSON line to ``path`` (and print it when ``echo``).

    Written as it comes, so an interrupted grid keeps the runs that finished. The file is
    locked while the line is written: several drivers (a lead's run and a background
    suite) may append to the same file, and their lines must never interleave.
    """
    line = json.dumps(record)
    if echo:
        print(line, flush=True)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            f.write(line + "\n")
            f.flush()
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def read_records(*paths: str | Path) -> list[dict]:
    """The JSON lines of every existing file in ``paths`` (blank and torn lines skipped: a
    driver killed mid-write must not make the whole file unreadable)."""
    records = []
    for path in paths:
        p = Path(path)
        if not p.exists():
            continue
        for line in p.read_text().splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def parse_params(items: list[str]) -> dict:
    """``--param NAME=VALUE`` options (VALUE in JSON) as estimator keyword arguments."""
    params = {}
    for item in items:
        name, _, value = item.partition("=")
        params[name] = json.loads(value)
    return params


def git_commit(cwd: str | Path = REPO_ROOT) -> str | None:
    """The commit checked out at ``cwd`` (None outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=cwd, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def git_dirty(cwd: str | Path = REPO_ROOT, path: str = "skdeepclust") -> bool | None:
    """Whether ``path`` has uncommitted changes (then the commit alone does not name the
    code that ran)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", path], capture_output=True,
                             text=True, cwd=cwd, check=True)
        return bool(out.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` is empty on
    most Linux systems)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()
