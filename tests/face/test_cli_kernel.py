"""neurona train --kernel: how a pass is computed in this process, recorded with the run, the
same model to rounding whichever it is, and Numba never loaded by --kernel numpy."""

import json
import subprocess
import sys

import numpy as np
import pytest

from neurona.engines import kernels
from neurona.errors import RunDirectoryError
from neurona.face import experiment
from neurona.face.cli import main

needs_numba = pytest.mark.skipif(not kernels.numba_available(), reason="needs Numba")


@pytest.fixture
def data(tmp_path):
    """40,000 rows of 3 features: the training rows are enough for kernel "auto" to take
    Numba's loops."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 3))
    y = (X @ [1.0, -0.5, 0.25] + 0.3 * rng.normal(size=len(X)) > 0).astype(int)
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,y\n" + "".join(
        f"{a!r},{b!r},{c!r},{t}\n" for (a, b, c), t in zip(X.tolist(), y)))
    assert 0.7 * X.size >= kernels.FUSED_MIN_SIZE
    return path


def _argv(data, out, kernel, stream):
    return ["train", "--data", str(data), "--target", "y", "--stream" if stream else
            "--no-stream", "--epochs", "2", "--batch-size", "64", "--optimizer", "adam",
            "--learning-rate", "0.01", "--out", str(out), "--no-plots", "--quiet",
            "--kernel", kernel]


@pytest.mark.parametrize("stream", [True, False])
def test_kernel_numpy_never_loads_numba_and_is_recorded(tmp_path, data, stream, cache_dir):
    out = tmp_path / "run"
    code = ("import sys; from neurona.face.cli import main; "
            f"code = main({_argv(data, out, 'numpy', stream)!r}); "
            "print(code, 'numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["0", "False"], done.stderr
    assert json.loads((out / "config.json").read_text())["kernel"] == "numpy"


@needs_numba
@pytest.mark.parametrize("stream", [True, False])
def test_the_kernels_train_the_same_model_to_rounding(tmp_path, data, stream, cache_dir):
    weights = {}
    for kernel in ("numpy", "numba"):
        out = tmp_path / kernel
        assert main(_argv(data, out, kernel, stream)) == 0
        model = json.loads((out / "model.json").read_text())
        weights[kernel] = np.append(model["weights"], model["bias"])
    scale = np.max(np.abs(weights["numpy"]))
    assert np.max(np.abs(weights["numba"] - weights["numpy"])) <= 1e-10 * scale


def test_a_recorded_kernel_that_is_not_one_is_refused(tmp_path, data, cache_dir):
    out = tmp_path / "run"
    assert main(_argv(data, out, "auto", True)) == 0
    config = json.loads((out / "config.json").read_text())
    config["kernel"] = "gpu"
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunDirectoryError, match=r"config.json: kernel must be 'auto'"):
        experiment.load_run(out)


def test_kernel_numba_without_numba_is_refused_before_the_file_is_read(tmp_path, data,
                                                                       monkeypatch, capsys):
    monkeypatch.setattr(kernels, "_numba_found", False)
    read = []
    monkeypatch.setattr(experiment.FileStream, "scan", lambda *a, **k: read.append(1))
    out = tmp_path / "run"
    assert main(_argv(data, out, "numba", True)) != 0
    err = capsys.readouterr().err.strip()
    assert "kernel='numba' needs Numba" in err and "\n" not in err
    assert read == [] and not out.exists()


def test_a_run_recorded_with_numba_loads_where_numba_is_missing(tmp_path, data, monkeypatch,
                                                                cache_dir):
    """The kernel is how the run was computed, not what it is: its report and model load
    anywhere."""
    out = tmp_path / "run"
    assert main(_argv(data, out, "numba" if kernels.numba_available() else "auto", True)) == 0
    config = json.loads((out / "config.json").read_text())
    config["kernel"] = "numba"
    (out / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr(kernels, "_numba_found", False)
    recorded, _ = experiment.load_run(out)
    assert recorded["kernel"] == "numba"
