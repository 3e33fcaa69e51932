"""How a neuron and a history show in a notebook: small HTML tables (no matplotlib).

``neurona`` registers these with IPython's HTML formatter when it is imported
in a running IPython (a notebook), so the core classes carry no view code.
"""

from __future__ import annotations

import numpy as np

from .report_html import escape, format_number, numeric_columns

NOTEBOOK_CSS = ("font-size:0.95em;border-collapse:collapse", "padding:1px 8px;text-align:right")


def _mini_table(caption: str, header, rows) -> str:
    tstyle, cstyle = NOTEBOOK_CSS
    head = "".join(f'<th style="{cstyle}">{escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{cstyle}">{cell}</td>' for cell in row) + "</tr>"
        for row in rows)
    return (f'<table style="{tstyle}"><caption style="text-align:left;font-weight:bold">'
            f"{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table>")


def neuron_html(neuron) -> str:
    """A neuron as a compact HTML table: each weight, the bias, the activation, and a
    classifier's threshold (a regression's task instead)."""
    names = neuron.feature_names or [f"x{i}" for i in range(neuron.n_features)]
    shown = min(neuron.n_features, 20)
    rows = [[f"w[{escape(n)}]", escape(format_number(float(w)))] for n, w in
            zip(names[:shown], neuron.weights[:shown])]
    if neuron.n_features > shown:
        rows.append(["…", escape(f"{neuron.n_features - shown} more")])
    rows += [["b", escape(format_number(neuron.bias))],
             ["activation", escape(neuron.activation.name)]]
    if getattr(neuron, "task", "classify") == "regress":  # a number out, no threshold
        rows.append(["task", "regression"])
    else:
        rows.append(["threshold", escape(format_number(neuron.threshold))])
    return _mini_table(f"Neuron ({neuron.n_features} features)", ["", "value"], rows)


def sparkline(values, width: int = 120, height: int = 24) -> str:
    """An inline SVG line of ``values`` (finite ones), scaled to the box."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return ""
    x = np.linspace(1, width - 1, v.size)
    span = v.max() - v.min()
    y = height - 2 - (v - v.min()) / (span if span > 0 else 1) * (height - 4)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<polyline points="{points}" fill="none" stroke="#5e3c99" stroke-width="1.5"/>'
            f"</svg>")


def history_html(history) -> str:
    """A history as a compact HTML table: each metric's first, last and best value."""
    rows = []
    for key in numeric_columns(history):
        if key == "epoch":
            continue
        v = history[key].astype(float)
        finite = v[np.isfinite(v)]
        if not finite.size:
            continue
        rows.append([escape(key), escape(format_number(float(finite[0]))), escape(format_number(float(finite[-1]))),
                     escape(format_number(float(finite.min()))), escape(format_number(float(finite.max()))),
                     sparkline(v)])
    return _mini_table(f"History ({len(history)} epochs)",
                       ["metric", "first", "last", "min", "max", ""], rows)


def register(ipython) -> None:
    """Show :class:`~neurona.core.neuron.Neuron` and :class:`~neurona.core.callbacks.History`
    as HTML in ``ipython`` (a running IPython shell)."""
    from ..core.callbacks import History
    from ..core.neuron import Neuron

    html = ipython.display_formatter.formatters["text/html"]
    html.for_type(Neuron, neuron_html)
    html.for_type(History, history_html)
