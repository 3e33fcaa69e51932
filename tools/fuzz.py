"""Fuzz every reader of the files neurona reads back, for minutes; report what breaks.

The long run of the fuzz tests (``tests/files/test_fuzz.py``), with their
seeds, mutations and targets (``tests/files/fuzzing.py``): each reader is fed
mutated copies of valid files, round after round, until ``--seconds`` have
passed. An outcome other than a clean result or a one-line
:class:`~neurona.errors.NeuronaError` naming the file is a failure; each kind
of failure (its exception and the line of neurona where it was raised) is
shrunk to a minimal reproducer, printed, and written under ``--out``.

Usage::

    PYTHONPATH=src python tools/fuzz.py --seconds 180 --seed 1 [--only model,resume]

Exit status 1 when a failure was found, 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "files"))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

import fuzzing  # noqa: E402

#: Seconds one input may take before it counts as a hang.
HANG_SECONDS = 30


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang(f"no answer within {HANG_SECONDS} s")


def _attempt(target, name, content) -> tuple[str, fuzzing.Failure | None]:
    """One input: ``("ok" | "refused" | "failed", failure)``."""
    with tempfile.TemporaryDirectory(prefix="neurona-fuzz-") as work:
        signal.alarm(HANG_SECONDS)
        try:
            return fuzzing.judge(target, name, content, Path(work)), None
        except fuzzing.Failure as failure:
            return "failed", failure
        except Hang as exc:
            return "failed", fuzzing.Failure(f"{target.name}: {exc}", "hang")
        finally:
            signal.alarm(0)


def _round(target, round_seed: int, n: int, counts: dict, found: dict) -> None:
    """``n`` inputs for ``target`` from the seed ``round_seed``; failures go to ``found``."""
    @seed(round_seed)
    @settings(max_examples=n, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(target.strategy())
    def run(pair):
        outcome, failure = _attempt(target, *pair)
        counts[target.name][outcome] += 1
        if failure is not None:
            key = (target.name, failure.signature)
            found.setdefault(key, [failure, pair, 0])[2] += 1

    run()


def _shrink(target, signature: str, pair, seconds: float):
    """A smaller input that fails with the same ``signature``: whole lines, then ever
    smaller runs of bytes, are cut out while the failure stays (delta debugging)."""
    name, content = pair
    deadline = time.monotonic() + seconds

    def fails(candidate: bytes) -> bool:
        _, failure = _attempt(target, name, candidate)
        return failure is not None and failure.signature == signature

    def reduce(parts: list[bytes]) -> list[bytes]:
        chunk = max(1, len(parts) // 2)
        while chunk >= 1 and time.monotonic() < deadline:
            i, cut = 0, False
            while i < len(parts) and time.monotonic() < deadline:
                candidate = parts[:i] + parts[i + chunk:]
                if candidate and fails(b"".join(candidate)):
                    parts, cut = candidate, True
                else:
                    i += chunk
            if not cut:
                chunk //= 2
        return parts

    content = b"".join(reduce(content.splitlines(keepends=True)))
    if len(content) <= 4096:
        content = b"".join(reduce([bytes([c]) for c in content]))
    return name, content


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to fuzz")
    parser.add_argument("--seed", type=int, default=1, help="the first round's seed")
    parser.add_argument("--only", default=None,
                        help="comma-separated prefixes of the targets to fuzz (default: all)")
    parser.add_argument("--round", type=int, default=25, help="inputs per target per round")
    parser.add_argument("--shrink-seconds", type=float, default=10.0,
                        help="time to shrink each failure")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the reproducers (default: a temporary folder)")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)
    seeds_dir = Path(tempfile.mkdtemp(prefix="neurona-fuzz-seeds-"))
    t0 = time.monotonic()
    seeds = fuzzing.make_seeds(seeds_dir)
    chosen = fuzzing.targets(seeds)
    if args.only:
        prefixes = tuple(p.strip() for p in args.only.split(","))
        chosen = [t for t in chosen if t.name.startswith(prefixes)]
    print(f"seeds written in {time.monotonic() - t0:.1f} s; fuzzing {len(chosen)} targets "
          f"for {args.seconds:g} s from seed {args.seed}", flush=True)

    counts = {t.name: {"ok": 0, "refused": 0, "failed": 0} for t in chosen}
    spent = {t.name: 0.0 for t in chosen}
    found: dict = {}
    start = time.monotonic()
    r = 0
    while time.monotonic() - start < args.seconds:
        for target in chosen:
            if time.monotonic() - start >= args.seconds:
                break
            n = max(1, args.round // 10) if target.slow else args.round
            t = time.monotonic()
            _round(target, args.seed * 1_000_003 + r, n, counts, found)
            spent[target.name] += time.monotonic() - t
        r += 1
    elapsed = time.monotonic() - start

    total = sum(sum(c.values()) for c in counts.values())
    print(f"\n{total} inputs in {elapsed:.0f} s ({r} rounds)\n")
    print(f"{'reader':32} {'inputs':>7} {'ok':>7} {'refused':>8} {'failed':>7} {'s':>6}")
    for name, c in counts.items():
        print(f"{name:32} {sum(c.values()):7} {c['ok']:7} {c['refused']:8} {c['failed']:7} "
              f"{spent[name]:6.1f}")

    if not found:
        print("\nno failures")
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="neurona-fuzz-found-"))
    out.mkdir(parents=True, exist_ok=True)
    by_name = {t.name: t for t in chosen}
    print(f"\n{len(found)} kind(s) of failure; reproducers in {out}\n")
    for i, ((name, signature), (failure, pair, times)) in enumerate(sorted(found.items())):
        target = by_name[name]
        small = _shrink(target, signature, pair, args.shrink_seconds)
        file_name, content = small
        path = out / f"{i:02d}-{name.replace('/', '_')}-{file_name}"
        path.write_bytes(content)
        _, again = _attempt(target, *small)
        print(f"[{i}] {name}: {signature} ({times} inputs)")
        print(f"    file {file_name}, {len(content)} bytes: {content[:160]!r}")
        print(f"    saved as {path}")
        message = str(again or failure).strip().splitlines()
        print("    " + "\n    ".join(line[:200] for line in message[:12]) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
