"""The ``neurona`` command: a thin shell over the library.

Data (epoch lines, reports, ``--json``) go to stdout; errors go to stderr as
one line, with exit status 2, and a traceback only with ``--traceback``.
Training that diverges exits with 2 after writing its run directory; Ctrl-C
(SIGINT) or SIGTERM during training finishes the current batch, writes the run
directory with a checkpoint (without figures) and exits with 130 (143 for
SIGTERM); one while the figures are drawn leaves the run without them, with
the same statuses.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

from .. import __version__
from ..core.activations import ACTIVATIONS
from ..core.checks import DTYPES
from ..core.losses import LOSSES, REDUCTIONS
from ..core.lbfgs import NAME as LBFGS
from ..core.optimizers import OPTIMIZERS, SCHEDULES
from ..core.spec import KERNELS, TASKS, TrainSpec
from ..errors import NeuronaError, SettingError
from ..show.i18n import DEFAULT_LANG, LANGS, messages
from .console import GracefulInterrupt, ProgressBar
from .experiment import DEFAULTS, TARGET_SCALINGS

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 2, 130, 141

#: Options ``--resume`` accepts besides itself: the run's settings are its own.
RESUME_OPTIONS = {"resume", "epochs", "out", "no_plots", "quiet", "json", "traceback", "lang",
                  "no_animation", "force", "no_cache", "cache_dir"}

#: ``neurona train --preset NAME``: each preset a fixed list of flags, read as if typed
#: (docs/training.md, "Big file, best model, fastest", says why these).
PRESETS = {
    "big-file": ("--stream", "--optimizer", "adam", "--batch-size", "4096",
                 "--learning-rate", "0.01", "--epochs", "1", "--scale", "standard"),
}

# Options whose value may start with a minus sign, like --init-weights -0.9,0.5,0.7.
NEGATIVE_VALUE_OPTIONS = ("--init-weights",)


class _Parser(argparse.ArgumentParser):
    """argparse, with errors reported as one line, in the language ``--lang`` asks for."""

    #: The language of the command line being parsed (set by :func:`main`).
    lang = DEFAULT_LANG

    def error(self, message):  # noqa: D401 - argparse's hook
        said = messages(self.lang).error(f"{message} (see '{self.prog} --help')")
        raise SystemExit(_fail(f"{self.prog}: error: {said}"))


def _lang_of(argv: list[str]) -> str:
    """The ``--lang`` an argument list asks for (English when none or unknown), read before
    argparse so that its own errors are said in that language too."""
    for k, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else \
            (argv[k + 1] if arg == "--lang" and k + 1 < len(argv) else None)
        if value is not None:
            return value if value in LANGS else DEFAULT_LANG
    return DEFAULT_LANG


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show each option's default, except the empty ones (None, False)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _fail(message: str) -> int:
    print(re.sub(r"\s*\n\s*", " ", message.strip()), file=sys.stderr)
    return EXIT_USAGE


def _number(parse, ok, expected: str):
    """An argparse ``type``: ``parse`` the text and check it with ``ok``, or say what was expected."""
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return convert


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
#: Numbers whose range the spec checks (with the flag in its message).
_integer = _number(int, lambda v: True, "an integer")
_real = _number(float, lambda v: True, "a number")
_positive_float = _number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
_nonnegative_float = _number(float, lambda v: math.isfinite(v) and v >= 0, "a number >= 0")


def _unit_interval(text: str, *, closed_low: bool = True) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    ok = (0 <= value < 1) if closed_low else (0 < value < 1)
    if not ok:
        lo = "[0" if closed_low else "(0"
        raise argparse.ArgumentTypeError(f"expected a number in {lo}, 1), got {text!r}")
    return value


def _class_weight(text: str):
    """``balanced`` or ``LABEL=WEIGHT,LABEL=WEIGHT`` (``:`` also works)."""
    if text == "balanced":
        return text
    mapping = {}
    for item in text.split(","):
        label, sep, weight = item.replace(":", "=").partition("=")
        try:
            float(label)
            value = float(weight)
        except ValueError:
            value = math.nan
        if not sep or not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(
                f"expected 'balanced' or LABEL=WEIGHT pairs like 0=1,1=3, got {text!r}")
        mapping[label.strip()] = value
    return mapping


def _float_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers W1,W2,...,B, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _byte_size(text: str) -> int:
    """``512M``, ``2G``, ``1.5GiB``, ``1000000`` -> bytes (K, M, G, T are powers of 1024)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(?:i?b)?\s*", text, re.I)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 2G, got {text!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def _delimiter(text: str) -> str:
    text = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(text) != 1 or text in "\r\n\"":
        raise argparse.ArgumentTypeError(
            f"expected one character (or 'tab'), got {text!r}")
    return text


def _names(text: str) -> list[str]:
    from ..data import parse_names

    names = parse_names(text)
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got {text!r}")
    return names


def _hashed(text: str) -> dict:
    """``COLUMN=N,COLUMN=N``: columns to hash, each into N features."""
    out = {}
    for item in text.split(","):
        name, sep, n = item.strip().rpartition("=")
        if not sep or not name or not n.isdigit() or not 1 <= int(n) <= 1 << 20:
            raise argparse.ArgumentTypeError(
                f"expected COLUMN=N pairs (N features, 1 to 1048576), got {item!r}")
        out[name] = int(n)
    return out


def _join_negative_values(argv: list[str]) -> list[str]:
    """Turn ``--opt -1,2`` into ``--opt=-1,2`` so argparse does not read ``-1,2`` as a flag."""
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg in NEGATIVE_VALUE_OPTIONS:
            nxt = next(it, None)
            if nxt is not None and nxt.startswith("-") and nxt[1:2] in "0123456789.":
                out.append(f"{arg}={nxt}")
                continue
            out.append(arg)
            if nxt is not None:
                out.append(nxt)
            continue
        out.append(arg)
    return out


#: The command line's flags for the training settings of :class:`TrainSpec`: the one place
#: where they are named. Each option's default and help come from the spec, and a
#: setting the spec refuses is reported with its flag (see :func:`main`).
SPEC_FLAGS = {
    "loss": ("--loss",), "epochs": ("--epochs",), "learning_rate": ("--learning-rate", "--lr"),
    "optimizer": ("--optimizer",), "batch_size": ("--batch-size",),
    "shuffle": ("--no-shuffle",), "reduction": ("--reduction",), "dtype": ("--dtype",),
    "momentum": ("--momentum",), "beta_1": ("--beta-1",), "beta_2": ("--beta-2",),
    "epsilon": ("--epsilon",), "rho": ("--rho",), "weight_decay": ("--weight-decay",),
    "schedule": ("--schedule",), "decay_rate": ("--decay-rate",),
    "decay_steps": ("--decay-steps",), "power_t": ("--power-t",),
    "end_learning_rate": ("--end-learning-rate",), "l2": ("--l2",), "l1": ("--l1",),
    "class_weight": ("--class-weight",), "validation_fraction": ("--validation-fraction",),
    "early_stopping": ("--early-stopping",), "monitor": ("--monitor",),
    "patience": ("--patience",), "min_delta": ("--min-delta",),
    "restore_best_weights": ("--no-restore-best-weights",), "random_state": ("--seed",),
    "task": ("--task",), "tol": ("--tol",), "kernel": ("--kernel",),
}


#: The flags of the other settings the library checks by name.
OTHER_FLAGS = {"threshold": "--threshold"}


def spec_option(g, name: str, **kwargs) -> None:
    """Add the option of training setting ``name``: its flags, the spec's default and help."""
    default = TrainSpec.defaults()[name]
    if isinstance(default, bool):  # a switch that turns the default off or on
        kwargs.setdefault("action", "store_false" if default else "store_true")
    g.add_argument(*SPEC_FLAGS[name], dest=name, default=default,
                   help=TrainSpec.describe(name).replace("%", "%%"), **kwargs)


def add_model_options(g) -> None:
    """The neuron: activation, loss and decision threshold."""
    g.add_argument("--activation", choices=list(ACTIVATIONS), default=DEFAULTS["activation"],
                   help="activation g of a = g(X w + b)")
    spec_option(g, "loss", choices=list(LOSSES))
    spec_option(g, "task", choices=list(TASKS))
    g.add_argument("--threshold", type=float, default=DEFAULTS["threshold"],
                   help="predict class 1 where the neuron's output is above it")


def add_training_options(g) -> None:
    """Gradient descent: epochs, step size, optimizer, batches, reduction and the starting point."""
    g.add_argument("--preset", choices=list(PRESETS), default=None,
                   help="a set of flags in one; big-file: " + " ".join(PRESETS["big-file"]) +
                        " (a file of a million rows or more: a model within a fraction of a "
                        "percent of the optimum's loss from one parse of the text); refused "
                        "with any flag it sets")
    spec_option(g, "epochs", type=_integer)
    spec_option(g, "learning_rate", type=_real)
    spec_option(g, "optimizer", choices=[*OPTIMIZERS, LBFGS])
    spec_option(g, "batch_size", type=_integer, metavar="K")
    spec_option(g, "shuffle")
    g.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                   help="seed of the initial weights (standard normal draws) and of every "
                        "random choice of training (shuffles, validation split)")
    g.add_argument("--init-weights", type=_float_list, metavar="W1,...,B", default=None,
                   help="exact starting weights, bias last (overrides --seed's draw)")
    spec_option(g, "reduction", choices=list(REDUCTIONS))


def add_speed_options(g) -> None:
    """How the pass over the data is computed."""
    spec_option(g, "dtype", choices=list(DTYPES))
    spec_option(g, "kernel", choices=list(KERNELS))


def add_optimizer_options(g) -> None:
    """Optimizer hyperparameters; each optimizer reads the ones it has."""
    for name in ("momentum", "beta_1", "beta_2", "epsilon", "rho", "weight_decay", "tol"):
        spec_option(g, name, type=_real)


def add_schedule_options(g) -> None:
    """The learning rate as a function of the update count t (one update per batch)."""
    spec_option(g, "schedule", choices=list(SCHEDULES))
    spec_option(g, "decay_rate", type=_real)
    spec_option(g, "decay_steps", type=_integer)
    spec_option(g, "power_t", type=_real)
    spec_option(g, "end_learning_rate", type=_real)


def add_regularisation_options(g) -> None:
    """Penalties on the weights (never the bias) and weights per sample class."""
    spec_option(g, "l2", type=_real)
    spec_option(g, "l1", type=_real)
    spec_option(g, "class_weight", type=_class_weight, metavar="balanced|L=W,...")


def add_validation_options(g) -> None:
    """A held-out validation split, and stopping when it stops improving."""
    spec_option(g, "validation_fraction", type=_real, metavar="F")
    spec_option(g, "early_stopping")
    spec_option(g, "monitor", metavar="KEY")
    spec_option(g, "patience", type=_integer)
    spec_option(g, "min_delta", type=_real)
    spec_option(g, "restore_best_weights")


def add_checkpoint_options(g) -> None:
    """Checkpoints, and resuming a run from one."""
    g.add_argument("--checkpoint-every", type=_positive_int, default=None, metavar="K",
                   help="create the run directory at the start and write checkpoint.json "
                        "every K epochs (every run directory holds one at the end)")
    g.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                   help="continue RUN_DIR from its checkpoint with its own settings, into a "
                        "new run directory; --epochs N sets the new total")


def add_engine_options(g) -> None:
    """Where training runs: in this process, or on a Dask cluster."""
    g.add_argument("--engine", choices=["numpy", "dask"], default=DEFAULTS["engine"],
                   help="numpy: in this process; dask: on a Dask cluster, reading --data (a "
                        "CSV or Parquet file, or a glob of them) partition by partition "
                        "(needs pip install 'neurona[dask]')")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --engine dask: the scheduler of an existing cluster, e.g. "
                        "tcp://host:8786 (default: a local cluster started and closed by "
                        "neurona)")
    g.add_argument("--dask-timeout", type=_positive_float, default=DEFAULTS["dask_timeout"],
                   metavar="SECONDS",
                   help="with --scheduler: how long to try to reach it")


def add_output_options(g) -> None:
    """What the command prints and where the run directory goes."""
    g.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="run directory to create (default: a new folder under runs/); "
                        "an existing non-empty one is refused")
    g.add_argument("--no-plots", action="store_true", help="do not draw figures")
    g.add_argument("--quiet", "-q", action="store_true",
                   help="print nothing but errors")
    g.add_argument("--json", action="store_true",
                   help="print only a JSON summary on stdout")
    g.add_argument("--force", action="store_true",
                   help="replace the run directory given by --out if it holds a run")


DATASET_OPTIONS = {"n_samples": "--n-samples", "noise": "--noise",
                   "cluster_std": "--cluster-std"}


def add_csv_options(g) -> None:
    """How a CSV file is read."""
    g.add_argument("--delimiter", type=_delimiter, default=",", metavar="CHAR",
                   help="CSV field separator ('tab' for tabs)")
    g.add_argument("--encoding", default="utf-8", help="CSV text encoding")


def add_data_options(g) -> None:
    """The data: a built-in dataset or a file, its scaling and its split."""
    from ..data import DATASETS
    from ..data.encoding import MISSING, UNKNOWN
    from ..data.scaling import KINDS

    g.add_argument("--dataset", choices=list(DATASETS), default=None,
                   help="a built-in dataset (default: blobs, the post's)")
    g.add_argument("--n-samples", type=_positive_int, default=None, metavar="N",
                   help="rows of the built-in dataset (default: 500)")
    g.add_argument("--noise", type=_nonnegative_float, default=None,
                   help="noise of moons, circles, xor and linear (default: 0.2 for moons, "
                        "0.1 for the others)")
    g.add_argument("--cluster-std", type=_positive_float, default=None,
                   help="standard deviation of the blobs (default: 2.5)")
    g.add_argument("--random-state", type=int, default=DEFAULTS["split"]["random_state"],
                   help="seed of the built-in dataset and of the train/test split")
    g.add_argument("--data", type=Path, default=None, metavar="FILE",
                   help="train on a file: .csv, .csv.gz, .parquet, .npy or .npz")
    g.add_argument("--target", default=None, metavar="COLUMN",
                   help="the file's target column: two classes (0/1, booleans or two labels) "
                        "or, for a regression, numbers")
    g.add_argument("--features", type=_names, default=None, metavar="A,B,...",
                   help="the file's feature columns (default: all but the target)")
    add_csv_options(g)
    columns = DEFAULTS["columns"]
    g.add_argument("--missing", choices=list(MISSING), default=columns["missing"],
                   help="a missing feature value: error, drop the row, or fill it in with the "
                        "training rows' mean, median or most frequent value (text columns: "
                        "the most frequent); a row whose target is missing is left out unless "
                        "error")
    g.add_argument("--unknown", choices=list(UNKNOWN), default=columns["unknown"],
                   help="a category training never saw: ignore (all its column's one-hot "
                        "features 0) or error")
    g.add_argument("--max-categories", type=_positive_int, default=columns["max_categories"],
                   metavar="N", help="refuse a text column with more distinct values (an ID, "
                                     "free text) unless it is hashed")
    g.add_argument("--hash", type=_hashed, default=None, metavar="COLUMN=N,...",
                   help="hash a text column's values into N features (the hashing trick) "
                        "instead of one per category")
    g.add_argument("--scale", choices=list(KINDS), default=DEFAULTS["scale"],
                   help="feature scaling, fitted on the training split and saved in the model")
    g.add_argument("--scale-target", choices=list(TARGET_SCALINGS),
                   default=DEFAULTS["scale_target"],
                   help="a regression's target scaling, fitted on the training split and "
                        "saved in the model, which predicts in the target's units")
    g.add_argument("--test-size", type=_unit_interval, default=DEFAULTS["split"]["test_size"],
                   metavar="FRACTION",
                   help="fraction of the rows held out for the test report (0: train on "
                        "every row, no report)")
    g.add_argument("--stratify", action="store_true",
                   help="keep the class proportions in both parts of the split")
    g.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                   help="read the file in record batches every epoch instead of loading it "
                        "(default: when it is larger than --memory-budget)")
    g.add_argument("--memory-budget", type=_byte_size, default=None, metavar="SIZE",
                   help="stream files larger than this, e.g. 512M or 4G (default: a quarter "
                        "of the physical memory)")


def add_report_options(g) -> None:
    """The report: its language and whether to draw the training animation."""
    g.add_argument("--lang", choices=list(LANGS), default=DEFAULT_LANG,
                   help="language of the report, the figure labels and the command's "
                        "messages (es: Spanish)")
    g.add_argument("--no-animation", action="store_true",
                   help="do not draw the training animation (figures/training.gif)")


def add_report_command(sub, common) -> None:
    report = sub.add_parser(
        "report", parents=[common], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="rebuild the figures and report.html of a run directory, without training",
        description="Redraw the figures, the training animation and report.html of a run "
                    "directory from its model.json, history.csv, weights.csv and config.json "
                    "(the data are made again from config.json). Nothing is trained.",
    )
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="a run directory written by 'neurona train'")
    add_report_options(report.add_argument_group("report"))
    add_cache_options(report.add_argument_group("cache of a streamed file"))
    report.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    report.set_defaults(handler=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--traceback", action="store_true",
                        help="show the full traceback on errors")
    parser = _Parser(
        prog="neurona", parents=[common],
        description="Train, explain and serve a single artificial neuron by gradient descent.",
        epilog="Run 'neurona train' with no options to reproduce the tutorial post's experiment.",
    )
    parser.add_argument("--version", action="version", version=f"neurona {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = sub.add_parser(
        "train", parents=[common], formatter_class=_HelpFormatter,
        help="train a neuron (no options: the tutorial post's experiment)",
        description="Train one neuron by gradient descent on the post's two-blob dataset "
                    "(make_blobs(n_samples=500, centers=2, cluster_std=2.5, random_state=1), "
                    "split 70/30 with random_state=1), print each epoch and the test-set "
                    "classification report, and write a run directory.",
    )
    add_model_options(train.add_argument_group("model"))
    add_training_options(train.add_argument_group("training"))
    add_optimizer_options(train.add_argument_group("optimizer"))
    add_schedule_options(train.add_argument_group("learning-rate schedule"))
    add_regularisation_options(train.add_argument_group("regularisation and class weights"))
    add_validation_options(train.add_argument_group("validation and early stopping"))
    add_checkpoint_options(train.add_argument_group("checkpoints and resume"))
    add_data_options(train.add_argument_group("data"))
    add_engine_options(train.add_argument_group("engine"))
    add_speed_options(train.add_argument_group("speed"))
    add_output_options(train.add_argument_group("output"))
    add_report_options(train.add_argument_group("report"))
    add_cache_options(train.add_argument_group("cache of a streamed file"))
    train.set_defaults(handler=cmd_train)
    parser.train_parser = train
    add_report_command(sub, common)
    add_cache_command(sub, common)
    add_predict_parser(sub, common)
    add_evaluate_parser(sub, common)
    add_playground_parser(sub, common)
    add_export_parser(sub, common)
    add_serve_parser(sub, common)
    return parser


# --- neurona serve ---------------------------------------------------------------------

def _model_pair(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, Path(path)


def add_serve_parser(sub, common) -> None:
    from .serving import DEFAULT_PORT, Limits

    p = sub.add_parser(
        "serve", parents=[common], formatter_class=_HelpFormatter,
        help="serve model files over HTTP (KServe V2, MLflow's /invocations, explanations)",
        description="Answer predictions over HTTP for model files neurona wrote (a run's "
                    "model.json, an estimator's file): the Open Inference Protocol (KServe "
                    "V2), MLflow's /invocations (JSON or CSV), and per-row explanations; "
                    "GET /openapi.json lists the routes. Columns are matched by name. A "
                    "model file replaced on disk is reloaded. Ctrl-C or SIGTERM stops it "
                    "once the requests in flight are answered.")
    p.add_argument("model", nargs="?", type=Path, metavar="MODEL",
                   help="a model.json or estimator file (or the run directory holding it)")
    p.add_argument("--name", default=None,
                   help="MODEL's name in URLs (default: its run directory's name)")
    p.add_argument("--model", dest="models", action="append", type=_model_pair, default=[],
                   metavar="NAME=PATH", help="one more model to serve (repeatable)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; another than loopback needs --token or "
                        "--insecure")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free one)")
    p.add_argument("--token", default=None,
                   help="ask every request (but liveness) for 'Authorization: Bearer TOKEN'")
    p.add_argument("--insecure", action="store_true",
                   help="listen on another address than loopback without a token")
    limits = Limits()
    p.add_argument("--max-body", type=_byte_size, default=limits.max_body, metavar="SIZE",
                   help="the most bytes a request body may hold (e.g. 16M)")
    p.add_argument("--max-rows", type=int, default=limits.max_rows,
                   help="the most rows a request may hold")
    p.add_argument("--timeout", type=float, default=limits.timeout, metavar="SECONDS",
                   help="the longest a request may take; also what SIGTERM waits for")
    p.add_argument("--reload-interval", type=float, default=limits.reload_interval,
                   metavar="SECONDS", help="how often the model files are looked at (0: never)")
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args) -> int:
    from .serving import Limits, default_name, serve

    files = {}
    if args.model is not None:
        files[args.name or default_name(args.model)] = args.model
    elif args.name is not None:
        raise NeuronaError("--name names MODEL; pass the model file too.")
    for name, path in args.models:
        if name in files:
            raise NeuronaError(f"two models are named {name!r}; give each its own name.")
        files[name] = path
    if not files:
        raise NeuronaError("name a model file to serve: neurona serve runs/RUN/model.json "
                           "(or --model NAME=PATH).")
    limits = Limits(max_body=args.max_body, max_rows=args.max_rows, timeout=args.timeout,
                    reload_interval=args.reload_interval)
    serve(files, host=args.host, port=args.port, token=args.token, insecure=args.insecure,
          limits=limits, announce=lambda line: print(line, flush=True))
    return EXIT_OK


def add_playground_parser(sub, common) -> None:
    p = sub.add_parser(
        "playground", parents=[common], formatter_class=_HelpFormatter,
        help="train a neuron in the browser, watching it learn (a local web page)",
        description="Start a local web page that trains one neuron with neurona's own loop: "
                    "choose the data and the settings, play, pause, step, reset, and download "
                    "model.json. With the defaults, playing to the end gives the weights "
                    "'neurona train' gives. Ctrl-C stops it.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (keep 127.0.0.1 unless you know why)")
    p.add_argument("--port", type=int, default=None,
                   help="port (default: 8765, or a free one if it is taken)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL")
    p.add_argument("--lang", choices=list(LANGS), default=DEFAULT_LANG,
                   help="the page's language (es: Spanish); switchable on the page")
    p.set_defaults(handler=cmd_playground)


def cmd_playground(args) -> int:
    from .playground import serve

    serve(host=args.host, port=args.port, lang=args.lang, open_browser=not args.no_browser,
          announce=lambda url: print(f"neurona playground: open {url}  (Ctrl-C stops it)",
                                     flush=True))
    return EXIT_OK


def add_predict_parser(sub, common) -> None:
    p = sub.add_parser(
        "predict", parents=[common], formatter_class=_HelpFormatter,
        help="predict every row of a data file with a trained model",
        description="Write one row per input row: a classifier's output (probability) and "
                    "predicted label, in the original label values; a regression's "
                    "prediction, in the target's units. The columns are found by the model's "
                    "feature names, in any order; other columns are ignored.")
    p.add_argument("--model", type=Path, required=True, metavar="MODEL",
                   help="a model.json (or the run directory holding it)")
    p.add_argument("--data", type=Path, required=True, metavar="FILE",
                   help=".csv, .csv.gz, .parquet, .npy or .npz")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="write the predictions to a .csv or .parquet file (default: CSV on "
                        "stdout)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--keep", type=_names, default=None, metavar="A,B,...",
                   help="input columns to copy into the output, before the predictions "
                        "(e.g. an id)")
    p.add_argument("--threshold", type=float, default=None,
                   help="predict class 1 above it (default: the model's)")
    add_csv_options(p)
    p.set_defaults(handler=cmd_predict)


def add_evaluate_parser(sub, common) -> None:
    p = sub.add_parser(
        "evaluate", parents=[common], formatter_class=_HelpFormatter,
        help="evaluate a trained model on a labelled data file",
        description="Print a classifier's classification report, confusion matrix, ROC AUC "
                    "and log loss on a data file, or a regression's R², MAE, RMSE and "
                    "explained variance (in the target's units).")
    p.add_argument("--model", type=Path, required=True, metavar="MODEL",
                   help="a model.json (or the run directory holding it)")
    p.add_argument("--data", type=Path, required=True, metavar="FILE",
                   help=".csv, .csv.gz, .parquet, .npy or .npz")
    p.add_argument("--target", default=None, metavar="COLUMN",
                   help="the target column (default: the one the model was trained on)")
    p.add_argument("--threshold", type=float, default=None,
                   help="predict class 1 above it (default: the model's)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_csv_options(p)
    p.set_defaults(handler=cmd_evaluate)


# --- neurona export: a model file as an ONNX graph (face/export.py, files/onnx_export.py) ---

def add_export_parser(sub, common) -> None:
    p = sub.add_parser(
        "export", parents=[common], formatter_class=_HelpFormatter,
        help="write a trained model as an ONNX graph",
        description="Write the whole model (its encoding, scaler, weights, activation, "
                    "threshold and labels, or a regression's target scaling; an estimator's "
                    "one-vs-rest neurons) as an ONNX file that ONNX Runtime and other tools "
                    "run without neurona. Input X: float32 [N, n_features] in the model's "
                    "feature order. See docs/export.md.")
    p.add_argument("model", type=Path, metavar="MODEL",
                   help="a model.json (neurona train's, neurona.save's or an estimator's "
                        "save), or the run directory holding it")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="the file format")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="FILE",
                   help="the file to write (default: MODEL with the suffix .onnx)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=cmd_export)


def cmd_export(args) -> int:
    from .export import export_onnx, output_path

    out = output_path(args.model, args.out, args.format)
    model = export_onnx(args.model, out, force=args.force)
    if not args.quiet:
        graph = model.graph
        inputs = ", ".join(i.name for i in graph.input)
        outputs = ", ".join(o.name for o in graph.output)
        print(f"{out} written (ONNX, opset {model.opset_import[0].version}): inputs {inputs}; "
              f"outputs {outputs}")
    return EXIT_OK


class EpochPrinter(ProgressBar):
    """Plain epoch lines only (never a live bar): ``ProgressBar(n_epochs, loss_name, live=False)``."""

    def __init__(self, loss_name: str, n_epochs: int, stream=None):
        super().__init__(n_epochs, loss_name, stream, live=False)


#: Options of ``neurona train`` that are config keys of the same name, besides the
#: training settings of the spec (``experiment.SPEC_KEYS``).
CONFIG_OPTIONS = ("activation", "threshold", "seed", "init_weights", "checkpoint_every",
                  "engine", "scheduler", "dask_timeout", "kernel")


def data_config(args) -> dict:
    """The config entries for ``neurona train``'s data options: source, split, scaling."""
    from ..data import DATASETS, dataset_spec
    from ..errors import OptionError

    builtin = {k: getattr(args, k) for k in DATASET_OPTIONS if getattr(args, k) is not None}
    if args.data is not None:
        if args.dataset is not None:
            raise OptionError("--data and --dataset are alternatives; pass one of them.")
        if builtin:
            raise OptionError(f"{', '.join(DATASET_OPTIONS[k] for k in builtin)} appl"
                              f"{'ies' if len(builtin) == 1 else 'y'} to built-in datasets, "
                              f"not to --data.")
        # Recorded absolute, so that the run can be reported or resumed from anywhere.
        dataset = {"name": "file", "path": os.path.abspath(args.data), "target": args.target,
                   "features": args.features, "delimiter": args.delimiter,
                   "encoding": args.encoding}
    else:
        for option in ("target", "features", "stream"):
            if getattr(args, option):
                raise OptionError(f"--{option} goes with --data FILE; the built-in datasets "
                                  f"are generated in memory with their own target.")
        name = args.dataset or "blobs"
        wrong = [k for k in builtin if k not in DATASETS[name]]
        if wrong:
            allowed = [DATASET_OPTIONS[k] for k in DATASETS[name] if k in DATASET_OPTIONS]
            raise OptionError(f"{', '.join(DATASET_OPTIONS[k] for k in wrong)} does not "
                              f"apply to --dataset {name}; its options are "
                              f"{', '.join(allowed)} and --random-state.")
        dataset = dataset_spec(name, **builtin, random_state=args.random_state)
    return {
        "dataset": dataset,
        "split": {"test_size": args.test_size, "random_state": args.random_state,
                  "stratify": args.stratify},
        "scale": args.scale,
        "scale_target": args.scale_target,
        "columns": {"missing": args.missing, "unknown": args.unknown,
                    "hash": args.hash or {}, "max_categories": args.max_categories},
        "stream": args.stream,
        "memory_budget": args.memory_budget,
    }


def train_config(args) -> tuple[dict, str | None]:
    """The experiment config that ``neurona train``'s options describe, and the note on
    the task chosen from the data, if it was (see :func:`experiment.choose_task`)."""
    from .experiment import SPEC_KEYS, choose_task, make_config

    config = make_config(**{k: getattr(args, k) for k in (*CONFIG_OPTIONS, *SPEC_KEYS)},
                         **data_config(args))
    given = _given_options(args.argv)
    if given & {"data", "dataset"}:
        given.add("dataset")
    return choose_task(config, given, args.lang)


def describe_data(result, lang: str = DEFAULT_LANG) -> str:
    """One line on what a run trained on, for data read from a file, in ``lang``."""
    t = messages(lang)
    config = result.config
    spec = config["dataset"]
    sizes = result.sizes or {"n_train": len(result.parts.y_train),
                             "n_test": len(result.parts.y_test)}
    classes = (t("cli.data_numbers") if result.classes is None else
               ", ".join(f"{i} = {c}" for i, c in enumerate(result.classes)))
    how = t("cli.data_dask" if config.get("engine") == "dask" else
            "cli.data_streamed" if config["stream"] else "cli.data_in_memory")
    tested = (t("cli.data_test_rows", n=sizes["n_test"]) if sizes["n_test"]
              else t("cli.data_no_test_rows"))
    dropped = sizes.get("n_dropped", result.parts.n_dropped)
    if dropped:
        tested += t("cli.data_left_out", n=dropped)
    path = os.path.relpath(spec["path"])
    path = spec["path"] if path.startswith("..") else path  # as typed, inside the folder
    encoding = result.neuron.encoding
    features = [c.name if c.kind in ("number", "boolean") else
                t("cli.data_categories", name=c.name, n=len(c.categories))
                if c.kind == "category" else t("cli.data_hashed", name=c.name, n=c.n)
                for c in encoding.columns] \
        if encoding is not None else spec["features"]
    filled = (t(f"cli.data_filled_{encoding.missing}")
              if encoding is not None and encoding.missing not in ("error", "drop") else "")
    return t("cli.data", path=path, how=how, n_train=sizes["n_train"], tested=tested,
             target=repr(spec["target"]), classes=classes, features=", ".join(features),
             filled=filled)


def _given_options(argv: list[str]) -> set[str]:
    """The destinations of the options given on the command line (not left to their default)."""
    parser = build_parser()
    for p in (parser, parser.train_parser):
        for action in p._actions:
            action.default = argparse.SUPPRESS
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # pragma: no cover - argv was parsed once already
        return set()
    return set(vars(args)) - {"command", "handler"}


def apply_preset(args) -> None:
    """Set the options ``args.preset`` stands for, as if they were typed; refuse any of
    them given on the command line too."""
    if args.preset is None:
        return
    flags = list(PRESETS[args.preset])
    sets = _given_options(["train", *flags])
    clash = sets & _given_options(args.argv)
    if clash:
        names = ", ".join(sorted(_option_of(dest) for dest in clash))
        raise NeuronaError(f"--preset {args.preset} sets {names} itself ({' '.join(flags)}); "
                           f"leave {'it' if len(clash) == 1 else 'them'} out, or give every "
                           f"flag instead of the preset.")
    expanded = build_parser().parse_args(["train", *flags])
    for dest in sets:
        setattr(args, dest, getattr(expanded, dest))
    args.argv = [*args.argv, *flags]


def _option_of(dest: str) -> str:
    """The first flag of ``neurona train``'s option that sets ``dest``."""
    action = next(a for a in build_parser().train_parser._actions if a.dest == dest)
    return action.option_strings[0]


def _resume_config(args) -> tuple[dict, dict]:
    from . import experiment

    given = _given_options(args.argv)
    extra = sorted(given - RESUME_OPTIONS)
    if extra:
        names = ", ".join("--" + k.replace("_", "-") for k in extra)
        raise NeuronaError(f"--resume continues a run with its own recorded settings; it takes "
                           f"only --epochs and the output options, not {names}.")
    config, checkpoint = experiment.load_run(args.resume)
    if "epochs" in given:
        config["epochs"] = args.epochs
    done = checkpoint["epoch"]
    if done >= config["epochs"]:
        raise NeuronaError(
            f"{args.resume} has done {done} epochs already; pass --epochs N with N > {done} "
            f"to train it further.")
    return config, checkpoint


def cmd_train(args) -> int:
    resume = None
    note = None
    if args.resume is not None:
        config, resume = _resume_config(args)
    else:
        apply_preset(args)
        config, note = train_config(args)
    if note and not (args.quiet or args.json):
        print(f"neurona train: {note[0].upper()}{note[1:]}")
    if args.force and args.out and config["checkpoint_every"] and args.out.exists():
        raise NeuronaError("--force does not replace a run directory while checkpointing into "
                           "it; remove it or choose another --out.")
    interrupt = GracefulInterrupt()
    with interrupt.held():
        try:
            return _train(args, config, resume, interrupt)
        except KeyboardInterrupt:
            # Before training, or a second signal: what was not written yet is dropped.
            print(messages(args.lang)("cli.interrupted"), file=sys.stderr)
            return interrupt.exit_status


def _train(args, config: dict, resume, interrupt: GracefulInterrupt) -> int:
    """``neurona train`` once its config is known, with SIGINT and SIGTERM held."""
    from . import experiment
    from ..files import rundir

    talk = not (args.quiet or args.json)
    t = messages(args.lang)
    callbacks = [interrupt]
    if talk:
        callbacks.insert(0, ProgressBar(config["epochs"], config["loss"], lang=args.lang))
    # The run directory is reserved (and found writable) before anything is trained.
    with rundir.reserve_run(args.out, root="runs", replace=args.force,
                            option="--out") as reservation:
        run_path = reservation.path
        if not args.quiet:
            _tell_leftovers(reservation.leftovers, t)
        result = experiment.run(config, callbacks, resume=resume, run_dir=reservation,
                                resumed_from=None if args.resume is None else str(args.resume),
                                cache=cache_setting(args))
        tell_notes(result.notes, args)
        if talk and result.config["dataset"].get("name") == "file":
            print(describe_data(result, args.lang))
        if talk and result.status != "diverged" and result.report_text is not None:
            print(_report_text(result, t), end="")
        try:
            experiment.write_run(result, reservation, plots=not args.no_plots, lang=args.lang,
                                 animation=not args.no_animation, interrupt=interrupt)
        except KeyboardInterrupt:
            pass  # while the figures were drawn: the run is written without them

    rows = result.history.rows
    last = rows[-1] if rows else {}
    if args.json:
        summary = {
            "run_dir": str(run_path), "status": result.status,
            "weights": [float(w) for w in result.neuron.weights],
            "bias": result.neuron.bias, "task": result.config["task"],
            "final_loss": last.get("loss"), "epochs": len(result.history),
            "passes": last.get("passes"),
        }
        if result.config["task"] == "regress":
            summary.update(test_scores=result.test_scores, train_r2=last.get("r2"),
                           train_mae=last.get("mae"))
            if "val_loss" in last:
                summary.update(val_loss=last["val_loss"], val_r2=last["val_r2"])
        else:
            summary.update(test_accuracy=result.test_accuracy,
                           train_accuracy=last.get("accuracy"))
            if "val_loss" in last:
                summary.update(val_loss=last["val_loss"], val_accuracy=last["val_accuracy"])
        print(json.dumps(summary, allow_nan=False))
    elif talk:
        stopper = result.early_stopping
        if result.status == "early_stopping":
            kept = (t("cli.kept_best", epoch=stopper.best_epoch)
                    if stopper.restore_best_weights else "")
            print(t("cli.early_stopping", epoch=stopper.stopped_epoch, monitor=stopper.monitor,
                    patience=stopper.patience, kept=kept))
        elif result.status == "converged":  # lbfgs's own stopping rule (--tol)
            print(t("cli.converged", epochs=len(rows), passes=last.get("passes")))
        print(t("cli.run_written", path=run_path))
    if result.status == "diverged":
        return _fail(t("cli.diverged", error=result.error, path=run_path))
    if not interrupt.interrupted:
        return EXIT_OK
    if not args.quiet:
        if result.status == "interrupted":
            checkpoint = result.checkpoint
            if checkpoint["batch"]:
                note = t("cli.interrupted_at_batch", epoch=checkpoint["epoch"],
                         batch=checkpoint["batch"], path=run_path)
            else:
                note = t("cli.interrupted_at_epoch", epoch=checkpoint["epoch"], path=run_path)
            print(note, file=sys.stderr)
            if result.figures == "interrupted":
                print(t("cli.figures_interrupted", path=run_path), file=sys.stderr)
        elif result.figures == "interrupted":
            print(t("cli.interrupted_figures", path=run_path), file=sys.stderr)
        else:
            print(t("cli.interrupted_after_training", path=run_path), file=sys.stderr)
    return interrupt.exit_status


def _report_text(result, t) -> str:
    """The test report ``neurona train`` prints, in the language of ``t``."""
    from ..show.metrics import localized_report, regression_report

    if t.lang == DEFAULT_LANG:
        return result.report_text
    if result.config["task"] == "regress" and result.test_scores is not None:
        spec = result.config["dataset"]
        target = spec.get("target") if spec.get("name") == "file" else None
        return regression_report(result.test_scores, target, t)
    return localized_report(result.report_text, t)


def _tell_leftovers(leftovers, t) -> None:
    """One line on stderr: what killed runs had left in the folder, removed now."""
    if not leftovers:
        return
    from .experiment import read_recorded_config
    from ..files.checkpoint import load_checkpoint

    removed = [str(p) for leftover in leftovers for p in leftover.removed]
    notes = [t("cli.leftovers", paths=", ".join(removed))]
    for leftover in leftovers:
        run = leftover.run
        if leftover.restored:
            notes.append(t("cli.leftover_restored", path=run))
        if not (run / "config.json").is_file():
            continue
        try:
            config = read_recorded_config(run)
            if config.get("status") == "running":
                epoch = load_checkpoint(run)["epoch"]
                notes.append(t("cli.leftover_training", path=run, epoch=epoch))
            elif config.get("figures") == "pending":
                notes.append(t("cli.leftover_figures", path=run))
        except NeuronaError:
            continue
    print("; ".join(notes), file=sys.stderr)


def cmd_report(args) -> int:
    from .experiment import rebuild_report

    notes: list = []
    path = rebuild_report(args.run_dir, lang=args.lang, animation=not args.no_animation,
                          cache=cache_setting(args), notes=notes)
    tell_notes(notes, args)
    if not args.quiet:
        print(messages(args.lang)("cli.report_written", path=path))
    return EXIT_OK


# --- the cache of streamed files: --no-cache, --cache-dir and `neurona cache` ---------------

def add_cache_options(g) -> None:
    """Where a streamed file's parsed rows are cached (see :mod:`neurona.data.cache`)."""
    g.add_argument("--no-cache", action="store_true",
                   help="parse a streamed file's text in every pass instead of caching its "
                        "parsed rows once")
    g.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="the cache folder (default: $NEURONA_CACHE_DIR, else "
                        "~/.cache/neurona); 'neurona cache clean' empties it")


def cache_setting(args):
    """The ``cache`` argument of the library (False, True or a folder) from the options."""
    if args.no_cache:
        return False
    return True if args.cache_dir is None else args.cache_dir


def tell_notes(notes, args) -> None:
    """The notes of a run on its file's cache, one line each on stderr (unless --quiet)."""
    for note in notes if not args.quiet else ():
        print(f"neurona {args.command}: {note}", file=sys.stderr)


def add_cache_command(sub, common) -> None:
    p = sub.add_parser(
        "cache", parents=[common], formatter_class=_HelpFormatter,
        help="list or remove the cached parsed rows of streamed files",
        description="A streamed run parses its file once and caches the parsed rows; later "
                    "passes and runs on the same file with the same reading options read "
                    "the cache. 'list' shows the caches (current: its file is unchanged; "
                    "stale: the file changed, the next run rebuilds it; orphaned: the file "
                    "is gone), 'clean' removes them.")
    p.add_argument("action", choices=["list", "clean"], help="what to do")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="the cache folder (default: $NEURONA_CACHE_DIR, else "
                        "~/.cache/neurona)")
    p.add_argument("--stale", action="store_true",
                   help="clean: only the caches whose file changed or is gone (and any "
                        "damaged or unfinished one)")
    p.set_defaults(handler=cmd_cache)


def cmd_cache(args) -> int:
    from ..data import cache

    folder = cache.cache_dir(True if args.cache_dir is None else args.cache_dir)
    if args.action == "clean":
        removed = cache.clean(folder, stale_only=args.stale)
        size = cache.human_size(sum(e.size for e in removed))
        print(f"neurona cache: removed {len(removed)} file(s), {size}, from {folder}")
        return EXIT_OK
    found = cache.entries(folder)
    if not found:
        print(f"neurona cache: no cache in {folder}")
        return EXIT_OK
    print(f"{folder}: {len(found)} file(s), {cache.human_size(sum(e.size for e in found))}")
    for e in found:
        what = (f"{e.dtype}, {e.rows} rows of {e.source}" if e.source is not None
                else e.path.name)
        print(f"  {e.state:<10} {cache.human_size(e.size):>9}  {what}")
    return EXIT_OK


def _model(path: Path):
    """Load a model file, or the model.json inside a run directory."""
    from ..files import model as model_file, rundir

    if path.is_dir() and (path / "model.json").is_file():
        path = path / "model.json"
    return model_file.load(path)


def cmd_predict(args) -> int:
    from . import inference
    from ..files import model as model_file, rundir

    fmt = None
    if args.out is not None:
        rundir.check_output_path(args.out, args.force)
        fmt = inference.output_format(args.out)
    neuron = _model(args.model)
    tables = inference.predictions(neuron, args.data, delimiter=args.delimiter,
                                   encoding=args.encoding, threshold=args.threshold,
                                   keep=args.keep)
    if args.out is None:
        sys.stdout.flush()
        inference.write_predictions(tables, sys.stdout.buffer, "csv", neuron.classes or ())
        return EXIT_OK
    with rundir.atomic_file(args.out, args.force) as tmp:
        n = inference.write_predictions(tables, tmp, fmt, neuron.classes or ())
    print(f"{n} predictions written to {args.out}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from . import inference
    from ..show.metrics import format_evaluation

    neuron = _model(args.model)
    result = inference.evaluate_file(neuron, args.data, args.target, delimiter=args.delimiter,
                                     encoding=args.encoding, threshold=args.threshold)
    regress = result["task"] == "regress"
    if args.json:
        if regress:
            del result["report"]  # the scores are the JSON's own fields
        else:
            result = dict(result, report=result["report_dict"])
            del result["report_dict"]
        print(json.dumps({"model": str(args.model), **result}, allow_nan=False))
    else:
        left = (f" ({result['n_dropped']} more left out: a missing value)"
                if result["n_dropped"] else "")
        print(f"Model {args.model} on {args.data}: {result['n_samples']} rows{left}, target "
              f"{result['target']!r}\n")
        print(result["report"] if regress else format_evaluation(result), end="")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    _Parser.lang = _lang_of(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    args.argv = argv
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"neurona {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``neurona train | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (NeuronaError, ValueError, OSError) as exc:
        if args.traceback:
            raise
        if isinstance(exc, SettingError) and exc.parameter in SPEC_FLAGS:
            exc = exc.as_option(SPEC_FLAGS[exc.parameter][0].replace("--no-", "--"))
        elif isinstance(exc, SettingError) and exc.parameter in OTHER_FLAGS:
            exc = exc.as_option(OTHER_FLAGS[exc.parameter])
        said = messages(getattr(args, "lang", DEFAULT_LANG)).error(str(exc))
        return _fail(f"neurona {args.command}: error: {said}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
