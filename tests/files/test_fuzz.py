"""Fuzzing every reader of the files neurona reads back: a clean result or one line, always.

Each reader (model and estimator files, checkpoints and resuming from them,
history and weights files, a run directory read back, resumed and reported,
data files in every format read, streamed, predicted on and evaluated, and
the commands that read them) is fed mutations of valid files neurona wrote
itself (``fuzzing.py``). Every outcome must be a clean result or a
``NeuronaError`` whose message is one line naming the file; a command must
exit with 0 or 2 and print at most one line on stderr. Derandomized and
bounded: the same inputs every run, a few seconds in all. ``tools/fuzz.py``
runs the same fuzzer for minutes.
"""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import fuzzing

#: Inputs per reader here; the slow readers (a command that trains or draws) get fewer.
EXAMPLES, SLOW_EXAMPLES = 12, 2
NAMES = [t.name for t in fuzzing.targets(fuzzing.Seeds("seeds"))]


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    seeds = fuzzing.make_seeds(tmp_path_factory.mktemp("seeds"))
    return {t.name: t for t in fuzzing.targets(seeds)}


def _judge(target, name, content):
    with tempfile.TemporaryDirectory(prefix="neurona-fuzz-") as work:
        return fuzzing.judge(target, name, content, Path(work))


@pytest.mark.parametrize("name", NAMES)
def test_the_valid_files_are_read(targets, name):
    """Unchanged, every seed is read cleanly: the fuzzer starts from files that work."""
    target = targets[name]
    files = list(target.files.items())
    if target.base is not None:  # a run directory: each of its files is the seed as it is
        files = files[:1]
    for file, (seed, _) in files:
        assert _judge(target, file, seed.read_bytes()) == "ok", (name, file)


@pytest.mark.parametrize("name", NAMES)
def test_mutated_files_are_read_or_refused_in_one_line(targets, name):
    target = targets[name]

    @settings(max_examples=SLOW_EXAMPLES if target.slow else EXAMPLES, deadline=None,
              derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(target.strategy())
    def check(pair):
        _judge(target, *pair)  # raises fuzzing.Failure for any other outcome

    check()


def test_the_judge_catches_what_it_must():
    """The fuzzer's own check: another exception, or a message of two lines or naming no
    file, is a failure."""
    def raising(exc):
        def read(path, work):
            raise exc(path) if callable(exc) and not isinstance(exc, BaseException) else exc
        return fuzzing.Target("probe", {"f.json": (None, "json")}, read)

    from neurona.errors import NeuronaError

    for exc, signature in [(KeyError("x"), "KeyError"), (TypeError("y"), "TypeError"),
                           (RecursionError(), "RecursionError"),
                           (NeuronaError("two\nlines f.json"), "not one line"),
                           (NeuronaError("names no file"), "no file named")]:
        with pytest.raises(fuzzing.Failure) as info:
            _judge(raising(exc), "f.json", b"{}")
        assert signature in info.value.signature
    assert _judge(raising(lambda path: NeuronaError(f"{path}: refused.")), "f.json",
                  b"{}") == "refused"

    def command(rc, err):
        return fuzzing.Target("cmd", {"f.json": (None, "json")},
                              lambda p, w: (rc, "", err.replace("FILE", str(p))), command=True)

    assert _judge(command(0, ""), "f.json", b"") == "ok"
    assert _judge(command(2, "neurona x: error: FILE: no.\n"), "f.json", b"") == "refused"
    for rc, err in [(1, ""), (2, "Traceback (most recent call last):\n  FILE\n"),
                    (2, "FILE: one\nand another line\n"), (2, "no file named\n")]:
        with pytest.raises(fuzzing.Failure):
            _judge(command(rc, err), "f.json", b"")
