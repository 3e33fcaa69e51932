"""The ``neurona`` command: a thin shell over the library.

Data (epoch lines, reports, ``--json``) go to stdout; errors go to stderr as
one line, with exit status 2, and a traceback only with ``--traceback``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from . import __version__
from .activations import ACTIVATIONS
from .callbacks import Callback
from .errors import NeuronaError
from .i18n import DEFAULT_LANG, LANGS, messages
from .losses import LOSSES, REDUCTIONS

EXIT_OK, EXIT_USAGE, EXIT_BROKEN_PIPE = 0, 2, 141

# Options whose value may start with a minus sign, like --init-weights -0.9,0.5,0.7.
NEGATIVE_VALUE_OPTIONS = ("--init-weights",)


class _Parser(argparse.ArgumentParser):
    """argparse, with errors reported as one line."""

    def error(self, message):  # noqa: D401 - argparse's hook
        raise SystemExit(_fail(f"{self.prog}: error: {message} (see '{self.prog} --help')"))


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_USAGE


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _float_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers W1,W2,...,B, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


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


def add_model_options(g) -> None:
    """The neuron: activation, loss and decision threshold."""
    g.add_argument("--activation", choices=list(ACTIVATIONS), default="sigmoid",
                   help="activation g of a = g(X w + b)")
    g.add_argument("--loss", choices=list(LOSSES), default="log_loss",
                   help="objective whose gradient is followed (log_loss is the post's "
                        "update rule; squared_error uses its own true gradient)")
    g.add_argument("--threshold", type=float, default=0.5,
                   help="predict class 1 where the neuron's output is above it")


def add_training_options(g) -> None:
    """Gradient descent: epochs, step size, reduction and the starting point."""
    g.add_argument("--epochs", type=_positive_int, default=100, help="number of epochs")
    g.add_argument("--learning-rate", "--lr", type=_positive_float, default=0.01,
                   help="step size eta of w -= eta * dL/dw")
    g.add_argument("--seed", type=int, default=1,
                   help="seed of the initial weights (standard normal draws)")
    g.add_argument("--init-weights", type=_float_list, metavar="W1,...,B", default=None,
                   help="exact starting weights, bias last (overrides --seed's draw)")
    g.add_argument("--reduction", choices=list(REDUCTIONS), default="sum",
                   help="sum (the post) or mean of the per-sample losses")


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
        "train", parents=[common], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="train a neuron (no options: the tutorial post's experiment)",
        description="Train one neuron by gradient descent on the post's two-blob dataset "
                    "(make_blobs(n_samples=500, centers=2, cluster_std=2.5, random_state=1), "
                    "split 70/30 with random_state=1), print each epoch and the test-set "
                    "classification report, and write a run directory.",
    )
    add_model_options(train.add_argument_group("model"))
    add_training_options(train.add_argument_group("training"))
    add_output_options(train.add_argument_group("output"))
    add_report_options(train.add_argument_group("report"))
    train.set_defaults(handler=cmd_train)
    add_report_command(sub, common)
    return parser


class EpochPrinter(Callback):
    """Print one line per epoch: the objective, the post's SSE and the train accuracy."""

    def __init__(self, loss_name: str, n_epochs: int, stream=None):
        self.loss_name = loss_name
        self.width = len(str(n_epochs - 1))
        self.stream = stream or sys.stdout

    def on_epoch_end(self, epoch, logs=None):
        print(f"[{epoch:>{self.width}}] {self.loss_name}: {logs['loss']:.6f}  "
              f"sse: {logs['sse']:.6f}  accuracy: {logs['accuracy']:.4f}", file=self.stream)


def train_config(args) -> dict:
    """The experiment config that ``neurona train``'s options describe."""
    from .experiment import make_config

    return make_config(
        activation=args.activation, loss=args.loss, reduction=args.reduction,
        learning_rate=args.learning_rate, epochs=args.epochs, threshold=args.threshold,
        seed=args.seed, init_weights=args.init_weights)


def cmd_train(args) -> int:
    from . import experiment, io

    run_path = io.check_run_path(args.out) if args.out else io.new_run_path("runs")
    config = train_config(args)
    talk = not (args.quiet or args.json)
    callbacks = [EpochPrinter(args.loss, args.epochs)] if talk else []
    result = experiment.run(config, callbacks)
    if talk:
        print(result.report_text, end="")
    experiment.write_run(result, run_path, plots=not args.no_plots, lang=args.lang,
                         animation=not args.no_animation)

    last = result.history.rows[-1]
    if args.json:
        print(json.dumps({
            "run_dir": str(run_path), "weights": [float(w) for w in result.neuron.weights],
            "bias": result.neuron.bias, "test_accuracy": result.test_accuracy,
            "train_accuracy": last["accuracy"], "final_loss": last["loss"],
            "epochs": len(result.history),
        }, allow_nan=False))
    elif talk:
        print(messages(args.lang)("cli.run_written", path=run_path))
    return EXIT_OK


def cmd_report(args) -> int:
    from .report_html import rebuild_report

    path = rebuild_report(args.run_dir, lang=args.lang, animation=not args.no_animation)
    if not args.quiet:
        print(messages(args.lang)("cli.report_written", path=path))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader went away (``neurona train | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (NeuronaError, ValueError, OSError) as exc:
        if args.traceback:
            raise
        return _fail(f"neurona {args.command}: error: {exc}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
