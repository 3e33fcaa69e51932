#!/usr/bin/env python3
"""Kill ``neurona train`` at random moments and check that nothing is lost or half-written.

Each round starts a few ``python -m neurona train`` processes at once in the
same ``runs/`` folder (small runs on the post's data: some checkpointing,
some drawing figures, one replacing a run with ``--force``) and SIGKILLs
each at a random moment of a phase drawn at random: starting up, training,
right after a checkpoint, writing the run, drawing the figures, finishing.
A moment is found by watching the process, never by a hook inside it: its
epoch lines and report on stdout, its lock file (which names its pid) and
its run directory. Then a fresh ``neurona train`` in the same folder must
remove (and say so on stderr) whatever the killed ones left, and:

- no hidden file or folder is left in ``runs/`` or inside a run directory;
- every directory in ``runs/`` is a whole run: ``model.json``,
  ``history.csv``, ``config.json`` and ``checkpoint.json`` that load
  (``neurona.load``, ``History.from_csv``, ``load_checkpoint``), and it
  resumes (``neurona train --resume DIR --epochs N+1``, N its checkpoint's epoch);
- every run that was whole after an earlier round is unchanged, byte for
  byte (but the one the ``--force`` run may replace, which must be whole);
- a process that was not killed exited with 0.

``tests/face/test_crash.py`` runs a short version; for a longer one::

    PYTHONPATH=src python tools/crash.py --kills 200

prints where the kills landed and every problem found (exit status 1 if any).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

#: name: (options, {phase it can be killed in: the longest delay after its anchor, in
#: seconds}). Every run is on the post's data. The anchors: "start", the process starts
#: (importing, reserving the run, making the data); "training", its first epoch line;
#: "checkpoint", its checkpoint.json changes; "writing", the report printed after
#: training; "figures", the figures' staging folder appears in the run directory; "end",
#: the run is in place (with its figures, if it draws them). The delays fit the phases'
#: lengths on a small machine; a kill that comes late lands in a later phase.
CONFIGS = {
    "plain": (["--epochs", "20000", "--no-plots"],
              {"start": 2.0, "training": 0.8, "writing": 0.03, "end": 0.03}),
    "every-epoch": (["--epochs", "300", "--checkpoint-every", "1", "--no-plots"],
                    {"training": 2.0, "checkpoint": 0.004, "writing": 0.03, "end": 0.03}),
    "animation": (["--epochs", "1000", "--checkpoint-every", "50", "--optimizer", "adam",
                   "--batch-size", "32"],
                  {"training": 0.6, "checkpoint": 0.004, "writing": 0.03, "figures": 5.0}),
    "figures": (["--epochs", "300", "--no-animation"],
                {"start": 2.0, "writing": 0.03, "figures": 2.7, "end": 0.03}),
    "figures-checkpoints": (["--epochs", "600", "--checkpoint-every", "100", "--no-animation"],
                            {"checkpoint": 0.004, "writing": 0.03, "figures": 2.7,
                             "end": 0.03}),
    "named": (["--epochs", "5000", "--no-plots", "--out", "runs/named-{n}"],
              {"start": 2.0, "training": 0.2, "writing": 0.03}),
    "replace": (["--epochs", "3000", "--no-plots", "--out", "runs/replaced", "--force"],
                {"start": 2.0, "training": 0.12, "writing": 0.03, "end": 0.03}),
}
REPLACED = "replaced"
POLL = 0.002


@dataclass
class Job:
    """One process of a round: what it runs and when it is killed."""

    config: str
    argv: list
    phase: str
    delay: float
    proc: subprocess.Popen | None = None
    lines: list = field(default_factory=list)  # (time, line) from its stdout
    killed: bool = False
    rc: int | None = None
    stderr: str = ""
    landed: str = ""  # where the kill landed, judged from what it left
    err: object = None  # the file its stderr goes to


def _reader(job: Job) -> None:
    for line in job.proc.stdout:
        job.lines.append((time.monotonic(), line))


def _said(job: Job, text: str) -> bool:
    return any(text in line for _, line in list(job.lines))


def _run_name(root: Path, pid: int) -> str | None:
    """The run the process ``pid`` holds, from its lock file in ``root``."""
    try:
        entries = os.listdir(root)
    except OSError:
        return None
    for entry in entries:
        if entry.startswith(".") and entry.endswith(".neurona-lock"):
            try:
                words = (root / entry).read_text().split()
            except OSError:
                continue
            if words[:2] == ["pid", str(pid)]:
                return entry[1:-len(".neurona-lock")]
    return None


def _anchor(job: Job, root: Path, state: dict) -> bool:
    """Whether the moment a kill in ``job.phase`` counts its delay from has come."""
    phase, pid = job.phase, job.proc.pid
    if phase == "start":
        return True
    if phase == "training":
        return _said(job, "[")
    if phase == "writing":
        return _said(job, "weighted avg")
    name = state.get("name") or _run_name(root, pid)
    state["name"] = name
    if name is None:
        return False
    run = root / name
    if phase == "checkpoint":  # a checkpoint was just written (the run's files change)
        try:
            mtimes = {e.name: e.stat().st_mtime_ns for e in os.scandir(run)
                      if e.name == "checkpoint.json"}
        except OSError:
            mtimes = {}
        seen = state.setdefault("mtime", mtimes.get("checkpoint.json"))
        return mtimes.get("checkpoint.json") not in (None, seen)
    if phase == "figures":
        try:
            return any(e.startswith(".report.") for e in os.listdir(run))
        except OSError:
            return False
    if phase == "end":
        if not _said(job, "weighted avg"):
            return False
        if "--no-plots" not in job.argv:
            return (run / "figures").is_dir()
        return (run / "config.json").is_file() and not any(
            e.endswith(".partial") and e.startswith(f".{name}.") for e in os.listdir(root))
    raise ValueError(phase)


def _watch(job: Job, root: Path) -> None:
    """Kill ``job`` ``job.delay`` seconds after its phase's anchor (unless it exits first)."""
    state, kill_at = {}, None
    while job.proc.poll() is None:
        now = time.monotonic()
        if kill_at is None and _anchor(job, root, state):
            kill_at = now + job.delay
        if kill_at is not None and now >= kill_at:
            try:
                job.proc.send_signal(signal.SIGKILL)
                job.killed = True
            except ProcessLookupError:
                pass
            return
        time.sleep(POLL)


def _landing(job: Job, root: Path) -> str:
    """Where a kill landed, from what the dead process left and had printed."""
    name = _run_name(root, job.proc.pid)
    if name is None:
        return "finishing" if _said(job, "weighted avg") else "starting up"
    run = root / name
    try:
        staged = any(e.startswith(f".{name}.") and e.endswith(".partial")
                     for e in os.listdir(root))
        inside = os.listdir(run) if run.is_dir() else []
    except OSError:
        staged, inside = False, []
    trained = _said(job, "weighted avg")
    if staged:
        return "writing the run (staged)" if trained else "training (staged)"
    if not run.is_dir() or not inside:
        return "reserving the run"
    if any(n.startswith(".report.") for n in inside):
        return "drawing the figures"
    if not trained:
        return "training (checkpointing)"
    try:
        import json
        config = json.loads((run / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    if config.get("status") == "running":
        return "writing the run (in place)"
    return "finishing"


def _env() -> dict:
    """The processes' environment: they import the neurona this process checks them with."""
    import neurona

    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    src = str(Path(neurona.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def run_round(work: Path, jobs: list[Job]) -> None:
    """Start every job at once in ``work`` (its ``runs/``), kill each at its moment, wait."""
    root = work / "runs"
    for i, job in enumerate(jobs):
        job.err = tempfile.TemporaryFile(mode="w+")
        job.proc = subprocess.Popen(
            [sys.executable, "-m", "neurona", "train", *job.argv], cwd=work, env=_env(),
            stdout=subprocess.PIPE, stderr=job.err, text=True)
    threads = []
    for job in jobs:
        threads += [threading.Thread(target=_reader, args=(job,), daemon=True),
                    threading.Thread(target=_watch, args=(job, root), daemon=True)]
    for thread in threads:
        thread.start()
    for job in jobs:
        try:
            job.rc = job.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            job.proc.kill()
            job.rc = job.proc.wait()
    for thread in threads:
        thread.join(timeout=10)
    for job in jobs:  # every process is gone: what each left is as it was when it died
        job.proc.stdout.close()
        job.err.seek(0)
        job.stderr = job.err.read()
        job.err.close()
        job.landed = _landing(job, root) if job.killed else "not killed (it finished first)"


def _hidden(root: Path) -> list[Path]:
    """Every hidden entry in ``root`` and in the run directories under it."""
    found = []
    if not root.is_dir():
        return found
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            found.append(entry)
        elif entry.is_dir():
            found += [p for p in sorted(entry.iterdir()) if p.name.startswith(".")]
    return found


def _digest(run: Path) -> dict:
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run.rglob("*")) if p.is_file()}


def check_runs(root: Path, scratch: Path) -> tuple[list[str], dict]:
    """Problems with the run directories under ``root``, and each one's checkpoint epoch."""
    import neurona
    from neurona.core.callbacks import History
    from neurona.face.experiment import read_recorded_config

    problems, epochs = [], {}
    for run in sorted(root.iterdir()):
        if run.name.startswith("."):
            continue
        if not run.is_dir():
            problems.append(f"{run}: not a directory")
            continue
        missing = [n for n in ("model.json", "history.csv", "config.json", "checkpoint.json")
                   if not (run / n).is_file()]
        if missing:
            problems.append(f"{run}: a partial run, without {', '.join(missing)}")
            continue
        try:
            neurona.load(run / "model.json")
            history = History.from_csv((run / "history.csv").read_text())
            read_recorded_config(run)
            checkpoint = neurona.load_checkpoint(run / "checkpoint.json")
        except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
            problems.append(f"{run}: does not load: {exc}")
            continue
        epochs[run.name] = checkpoint["epoch"]
        if len(history) < checkpoint["epoch"]:
            problems.append(f"{run}: history.csv has {len(history)} epochs, its checkpoint "
                            f"{checkpoint['epoch']}")
    return problems, epochs


def check_resume(root: Path, names: list[str], epochs: dict, scratch: Path) -> list[str]:
    """Each run in ``names`` resumes for one more epoch (in this process)."""
    import contextlib
    import io

    from neurona.face.cli import main

    problems = []
    for name in names:
        out = Path(tempfile.mkdtemp(dir=scratch)) / "resumed"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["train", "--resume", str(root / name), "--epochs",
                       str(epochs[name] + 1), "--out", str(out), "--no-plots", "--quiet"])
        if rc != 0 or not (out / "model.json").is_file():
            problems.append(f"{root / name}: --resume --epochs {epochs[name] + 1} exited with "
                            f"{rc}: {err.getvalue().strip()}")
    return problems


def recover(work: Path, *argv: str) -> tuple[int, str]:
    """A fresh ``neurona train`` in ``work`` (in this process); its exit status and stderr."""
    import contextlib
    import io

    from neurona.face.cli import main

    err, here = io.StringIO(), os.getcwd()
    try:
        os.chdir(work)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["train", "--epochs", "5", "--no-plots", *argv])
    finally:
        os.chdir(here)
    return rc, err.getvalue()


@dataclass
class Summary:
    kills: int = 0
    started: int = 0
    rounds: int = 0
    landed: Counter = field(default_factory=Counter)
    leftovers_removed: int = 0
    runs_checked: int = 0
    resumed: int = 0
    problems: list = field(default_factory=list)


def crash_test(work: Path, kills: int, seed: int = 0, parallel: int = 3, plan=None,
               log=print) -> Summary:
    """Kill ``kills`` runs (``parallel`` at a time) in ``work/runs``; check after each round.

    ``plan`` lists ``(config, phase)`` pairs to start with (then they are drawn at random).
    """
    rng = random.Random(seed)
    plan = list(plan or [])
    work = Path(work)
    root = work / "runs"
    scratch = work / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    # A whole run to keep, and one for the --force runs to replace.
    rc, err = recover(work)
    rc2, err2 = recover(work, "--out", f"runs/{REPLACED}")
    if rc or rc2:
        summary.problems.append(f"the first runs failed: {err}{err2}")
        return summary
    whole = {run.name: _digest(run) for run in root.iterdir() if run.is_dir()}
    n = 0
    while summary.started < kills:
        summary.rounds += 1
        jobs, replacing = [], False
        for _ in range(min(parallel, kills - summary.started)):
            name, phase = plan.pop(0) if plan else (rng.choice(sorted(CONFIGS)), None)
            if name == "replace" and replacing:  # two at once would refuse each other
                name, phase = "plain", None
            replacing |= name == "replace"
            options, delays = CONFIGS[name]
            phase = phase or rng.choice(sorted(delays))
            n += 1
            jobs.append(Job(name, [o.format(n=n) for o in options], phase,
                            rng.uniform(0, delays[phase])))
        summary.started += len(jobs)
        run_round(work, jobs)
        left = _hidden(root)
        rc, err = recover(work)
        problems = []
        for job in jobs:
            summary.kills += job.killed
            summary.landed[job.landed] += 1
            if not job.killed and job.rc != 0:
                problems.append(f"{job.config} {job.argv} exited with {job.rc}: "
                                f"{job.stderr.strip()[-500:]}")
        if rc != 0:
            problems.append(f"the run after the kills exited with {rc}: {err.strip()}")
        said = "removed what killed runs had left" in err
        if left and not said:
            problems.append(f"{len(left)} leftovers, and the next run said nothing: "
                            f"{[str(p) for p in left]}")
        if said and not left:
            problems.append(f"the next run reported leftovers that were not there: {err}")
        still = _hidden(root)
        if still:
            problems.append(f"left after the next run: {[str(p) for p in still]}")
        summary.leftovers_removed += len(left) - len(still)
        found, epochs = check_runs(root, scratch)
        problems += found
        for name, digest in whole.items():
            if name == REPLACED:
                continue
            if not (root / name).is_dir() or _digest(root / name) != digest:
                problems.append(f"{root / name} changed, or is gone")
        if REPLACED not in epochs:
            problems.append(f"{root / REPLACED} is gone or not whole")
        new = [name for name in epochs if name not in whole or name == REPLACED]
        problems += check_resume(root, new, epochs, scratch)
        summary.resumed += len(new)
        summary.runs_checked = len(epochs)
        whole.update({name: _digest(root / name) for name in new})
        for problem in problems:
            log(f"round {summary.rounds}: PROBLEM: {problem}")
        summary.problems += problems
        log(f"round {summary.rounds}: " + ", ".join(
            f"{job.config}/{job.phase}+{job.delay * 1000:.0f}ms -> {job.landed}"
            for job in jobs) + f"; {len(left)} leftovers; {len(epochs)} runs")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=60, help="processes to start and kill")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=3, help="processes at once")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to work (default: a temporary folder, removed)")
    parser.add_argument("--quiet", action="store_true", help="print the summary only")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="neurona-crash-") as tmp:
        work = args.dir or Path(tmp)
        summary = crash_test(work, args.kills, args.seed, args.parallel,
                             log=(lambda *a: None) if args.quiet else print)
    minutes = (time.monotonic() - started) / 60
    print(f"\n{summary.started} runs started in {summary.rounds} rounds "
          f"({args.parallel} at a time, seed {args.seed}), {summary.kills} killed by SIGKILL, "
          f"in {minutes:.1f} minutes")
    print("where the kills landed:")
    for where, count in summary.landed.most_common():
        print(f"  {count:5d}  {where}")
    print(f"leftovers removed by the next run: {summary.leftovers_removed}")
    print(f"run directories checked whole, loading and resuming: {summary.resumed} new "
          f"({summary.runs_checked} in runs/ at the end)")
    print(f"problems: {len(summary.problems)}")
    for problem in summary.problems:
        print(f"  {problem}")
    return 1 if summary.problems else 0


if __name__ == "__main__":
    sys.exit(main())
