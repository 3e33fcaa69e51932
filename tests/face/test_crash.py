"""``neurona train`` killed (SIGKILL) at random moments loses nothing and leaves nothing half
written: a short run of ``tools/crash.py`` (see there; ``tools/crash.py --kills 200`` is the
long one)."""

import importlib.util
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "crash.py"

#: Each phase at least once: starting up, training, right after a checkpoint, writing the
#: run, drawing the figures, finishing; one run replacing another with --force.
PLAN = [("every-epoch", "checkpoint"), ("figures", "figures"), ("plain", "training"),
        ("replace", "writing"), ("figures-checkpoints", "figures"), ("named", "start"),
        ("every-epoch", "training"), ("figures", "end")]


def _tool():
    spec = importlib.util.spec_from_file_location("crash_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclasses
    spec.loader.exec_module(module)
    return module


def test_runs_killed_at_random_moments_lose_nothing(tmp_path):
    crash = _tool()
    lines = []
    summary = crash.crash_test(tmp_path, kills=len(PLAN), seed=0, parallel=4, plan=PLAN,
                               log=lines.append)
    assert summary.problems == [], "\n".join(lines)
    assert summary.rounds == 2 and summary.started == len(PLAN)
    assert summary.kills >= len(PLAN) - 2, "\n".join(lines)  # a late one may find it done
    assert len(summary.landed) >= 3, summary.landed  # the kills landed in several phases
    assert summary.leftovers_removed > 0
    assert summary.resumed >= summary.kills
