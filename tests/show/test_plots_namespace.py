"""``neurona.plots`` is the one public namespace of the figures, spread over one module each."""

import ast
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from neurona import plots

FIGURE_MODULES = ("style", "feature_plane", "classification_figures", "regression_figures",
                  "curves", "run_figures", "animation")


def _public_definitions(module) -> list[str]:
    """The public functions, classes and constants ``module`` defines (not those it imports)."""
    tree = ast.parse(Path(module.__file__).read_text())
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return [n for n in names if not n.startswith("_")]


@pytest.mark.parametrize("name", FIGURE_MODULES)
def test_every_public_name_of_a_figure_module_is_in_neurona_plots(name):
    module = import_module(f"neurona.show.{name}")
    defined = _public_definitions(module)
    assert defined, f"{name} defines nothing public"
    missing = [n for n in defined if n not in plots.__all__]
    assert not missing, f"neurona.plots does not re-export {missing} of neurona.show.{name}"
    for n in defined:
        assert getattr(plots, n) is getattr(module, n)


def test_neurona_plots_all_names_what_it_holds():
    assert len(set(plots.__all__)) == len(plots.__all__)
    for name in plots.__all__:
        assert hasattr(plots, name), name
    for name in ("plot_points", "plot_decision_boundary", "plot_fit", "plot_loss",
                 "plot_learning_curves", "save_run_figures", "animate_training",
                 "figure_size", "CLASS_COLORS", "TARGET_CMAP"):
        assert name in plots.__all__


def test_importing_the_figures_does_not_import_matplotlib():
    code = ("import sys, neurona, neurona.show.animation, neurona.show.run_figures;"
            " neurona.plots.plot_fit; print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
