import os

# scikit-learn's estimator checks include one that runs with array API dispatch on,
# which needs SciPy's array API support: it is read once, before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    """Each test's streamed files are cached in a folder of its own, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("NEURONA_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def report_run(tmp_path_factory):
    """One run of the post's experiment with its figures, animation and report.html.

    Shared by the report tests, which read it and never change it (they copy it first).
    """
    from neurona.face.cli import main

    out = tmp_path_factory.mktemp("report") / "run"
    assert main(["train", "--out", str(out), "--quiet"]) == 0
    return out


def pytest_collection_modifyitems(items):
    """Every test that reads ``report_run`` is in the animation lane: the fixture draws it."""
    for item in items:
        if "report_run" in item.fixturenames:
            item.add_marker(pytest.mark.animation)
