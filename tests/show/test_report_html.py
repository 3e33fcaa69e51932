"""report.html: self-contained, holding the run's numbers; 'neurona report' rebuilds it."""

import base64
import csv
import json
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest

from neurona import History, Neuron
from neurona.face.cli import main
from neurona.show.report_html import FIGURES, history_rows, history_section
from neurona.show.i18n import messages


class Page(HTMLParser):
    """The parts of a report page the tests read: tables (by id), images, tags."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.images, self.tags, self.meta = {}, [], [], []
        self._table = self._row = self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "value": attrs.get("data-value")}
            self._row.append(self._cell)
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "meta":
            self.meta.append(attrs)

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def report_txt_rows(text):
    """report.txt's rows as {label: [numbers as printed]}."""
    rows = {}
    for line in text.splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) >= 2 and re.fullmatch(r"[\d.]+", parts[-1]):
            rows[parts[0]] = parts[1:]
    return rows


@pytest.fixture(scope="module")
def run_dir(report_run):
    return report_run


def _page(run_dir):
    return Page((run_dir / "report.html").read_text(encoding="utf-8"))


def test_report_is_self_contained(run_dir):
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text.replace("data:", ""))
    assert "script" not in page.tags and "iframe" not in page.tags
    policy = next(m["content"] for m in page.meta if m.get("http-equiv") ==
                  "Content-Security-Policy")
    assert "default-src 'none'" in policy
    pngs = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert len(page.images) == len(pngs) + 1  # every figure and the animation
    embedded = [base64.b64decode(img["src"].split(",", 1)[1]) for img in page.images]
    for name in [*pngs, "training.gif"]:
        assert (run_dir / "figures" / name).read_bytes() in embedded, name
    for img in page.images:
        assert img["src"].startswith(("data:image/png;base64,", "data:image/gif;base64,"))
        assert img["alt"] and int(img["width"]) > 0


def test_report_tables_hold_the_runs_numbers(run_dir):
    page = _page(run_dir)
    expected = report_txt_rows((run_dir / "report.txt").read_text())
    table = page.tables["classification-report"]
    shown = {row[0]["text"]: [c["text"] for c in row[1:] if c["text"]] for row in table[1:]}
    assert shown == expected

    with open(run_dir / "history.csv", newline="") as f:
        history = list(csv.DictReader(f))
    rows = page.tables["history"]
    assert [c["text"] for c in rows[0]] == list(history[0])
    assert len(rows) - 1 == len(history) == 100
    for row, record in zip(rows[1:], history):
        assert [c["value"] for c in row] == list(record.values())
        assert float(row[1]["text"]) == pytest.approx(float(record["loss"]), abs=1e-6)

    model = json.loads((run_dir / "model.json").read_text())
    weights = page.tables["weights"]
    finals = [float(row[2]["value"]) for row in weights[1:]]
    assert finals == [*model["weights"], model["bias"]]
    config = json.loads((run_dir / "config.json").read_text())
    initials = [float(row[1]["value"]) for row in weights[1:]]
    assert initials == config["init_weights"]
    settings = {row[0]["text"]: row[1]["text"] for row in page.tables["config"][1:]}
    assert settings["learning_rate"] == "0.01" and settings["dataset.n_samples"] == "500"
    metrics = {row[0]["text"]: row[1] for row in page.tables["metrics"][1:]}
    assert float(metrics["test accuracy"]["text"]) == pytest.approx(float(expected["accuracy"][0]),
                                                                    abs=0.005)
    assert metrics["last epoch: sse"]["value"] == history[-1]["sse"]


def test_report_command_rebuilds_without_training(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "figures")
    (copy / "report.html").unlink()
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    assert main(["report", str(copy)]) == 0
    assert capsys.readouterr().out == f"Report written to {copy / 'report.html'}\n"
    after = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    assert {k: after[k] for k in before} == before  # model, history, config untouched
    assert {p.name for p in (copy / "figures").iterdir()} == \
        {p.name for p in (run_dir / "figures").iterdir()}
    assert not [p for p in copy.iterdir() if p.name.startswith(".")]
    old, new = _page(run_dir), _page(copy)
    for ident in ("classification-report", "history", "weights", "metrics", "dataset"):
        assert old.tables[ident] == new.tables[ident], ident


def test_report_command_speaks_spanish(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    assert main(["report", str(copy), "--lang", "es", "--no-animation"]) == 0
    assert capsys.readouterr().out.startswith("Informe escrito en ")
    text = (copy / "report.html").read_text(encoding="utf-8")
    assert '<html lang="es">' in text
    t = messages("es")
    for key in ("report.classification_report", "report.history", "report.figures"):
        assert t(key) in text
    assert not (copy / "figures" / "training.gif").exists()
    spanish = Page(text).tables["classification-report"]
    english = _page(run_dir).tables["classification-report"]
    assert [c["text"] for c in spanish[0]] == [t("report.class"), t("report.precision"),
                                               t("report.recall"), t("report.f1"),
                                               t("report.support")]
    assert [row[1:] for row in spanish[1:]] == [row[1:] for row in english[1:]]
    assert [row[0]["text"] for row in spanish[3:]] == ["exactitud", "media macro",
                                                       "media ponderada"]


@pytest.mark.animation
def test_no_plots_run_gets_its_report_later(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--out", str(out), "--no-plots", "--quiet", "--epochs", "5"]) == 0
    assert not (out / "report.html").exists()
    assert main(["report", str(out), "-q"]) == 0
    assert capsys.readouterr().out == ""
    with __import__("PIL.Image").Image.open(out / "figures" / "training.gif") as im:
        assert im.n_frames == 6
    assert len(_page(out).tables["history"]) == 6


def test_run_without_weights_file_is_reported_without_animation(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "weights.csv").unlink()
    assert main(["report", str(copy), "-q"]) == 0
    names = {p.name for p in (copy / "figures").iterdir()}
    assert "training.gif" not in names and "weights.png" not in names
    assert messages("en")("report.no_trajectory") in (copy / "report.html").read_text()


@pytest.mark.parametrize("breakage,match", [
    (lambda d: shutil.rmtree(d), "is not a run directory"),
    (lambda d: (d / "config.json").unlink(), "has no config.json; is it a neurona run"),
    (lambda d: (d / "history.csv").unlink(), "history.csv is missing"),
    (lambda d: (d / "config.json").write_text("{"), "config.json: not valid JSON"),
    (lambda d: (d / "model.json").write_text("[]"), "expected a JSON object"),
    (lambda d: (d / "weights.csv").write_text("epoch,w[x0],b\n"), "weights.csv: no rows"),
    (lambda d: (d / "weights.csv").write_text("epoch,w[x0],b\n0,1,2\n"),
     "has 1 weights per row but the model has 2"),
    (lambda d: (d / "config.json").write_text(
        (d / "config.json").read_text().replace('"n_samples": 500', '"n_samples": 400')),
     "do not match the run"),
])
def test_report_of_a_broken_run_fails_cleanly(run_dir, tmp_path, capsys, breakage, match):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    breakage(copy)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    report_before = (copy / "report.html").read_bytes() if copy.exists() else None
    assert main(["report", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("neurona report: error: ")
    assert re.search(match, err), err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    if report_before is not None:
        assert (copy / "report.html").read_bytes() == report_before


def test_long_histories_are_thinned_in_the_report():
    shown, step = history_rows(History([{"epoch": k} for k in range(2500)]))
    assert step == 3 and shown[:3] == [0, 3, 6] and shown[-1] == 2499 and len(shown) <= 1000
    assert history_rows(History([{"epoch": k} for k in range(10)])) == (list(range(10)), 1)
    text = history_section(History([{"epoch": k, "loss": 1.0} for k in range(2500)]),
                           messages("en"))
    assert "834 of 2500 epochs shown (one in 3, and the last)" in text


def test_notebook_shows_a_neuron_and_a_history_as_html():
    from neurona.show.notebook import history_html, neuron_html

    neuron = Neuron([1.5, -2.0], 0.25, feature_names=["height", "width"])
    text = neuron_html(neuron)
    assert "<table" in text and "w[height]" in text and "1.5" in text and "-2" in text
    assert "sigmoid" in text and "0.25" in text
    wide = neuron_html(Neuron(np.arange(30.0)))
    assert "10 more" in wide
    assert "threshold" in text
    regression = neuron_html(Neuron([1.0], 0.5, "identity", task="regress"))
    assert "regression" in regression and "threshold" not in regression
    history = History([{"epoch": k, "loss": 10.0 / (k + 1), "accuracy": k / 10}
                       for k in range(10)])
    text = history_html(history)
    assert "History (10 epochs)" in text and "<svg" in text
    assert ">loss<" in text and ">accuracy<" in text and ">epoch<" not in text
    assert "<td style=\"padding:1px 8px;text-align:right\">10</td>" in text


def test_the_core_and_the_notebook_views_never_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, numpy as np, neurona, neurona.show.notebook as nb, neurona.show.report_html;"
            "h = neurona.train(neurona.Neuron([0.0]), np.array([[1.0], [-1.0]]), [1, 0],"
            " epochs=2); nb.history_html(h); nb.neuron_html(neurona.Neuron([1.0]));"
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_a_diverged_run_still_gets_its_figures_and_report(tmp_path, capsys):
    out = tmp_path / "r"
    # A classifier (the identity with the squared error is a regression unless told).
    assert main(["train", "--activation", "identity", "--loss", "squared_error",
                 "--task", "classify", "--learning-rate", "1", "--out", str(out), "--quiet",
                 "--no-animation"]) == 2
    assert "Floating-point under-/overflow" in capsys.readouterr().err
    page = _page(out)
    with open(out / "history.csv", newline="") as f:
        assert len(page.tables["history"]) - 1 == len(list(csv.DictReader(f)))
    assert float(page.tables["history"][-1][1]["value"]) > 1e200  # the losses blew up
    assert len(page.images) == len(list((out / "figures").glob("*.png"))) == 9


def test_the_page_is_rendered_from_its_jinja2_template_with_autoescaping(run_dir, tmp_path,
                                                                         capsys):
    """report.html comes from templates/report.html.j2; a run's own text (here its name
    and a table's cells) is escaped, never markup."""
    from neurona.show import report_html

    template = report_html._environment().get_template("report.html.j2")
    assert template.environment.autoescape is True
    assert template.filename.endswith("templates/report.html.j2")
    copy = tmp_path / "<b>run&'"
    shutil.copytree(run_dir, copy)
    assert main(["report", str(copy), "--no-animation", "--quiet"]) == 0
    text = (copy / "report.html").read_text(encoding="utf-8")
    assert "<b>" not in text
    assert "&lt;b&gt;run&amp;&#39;" in text
    import html

    title = re.search(r"<title>(.*)</title>", text).group(1)
    assert html.unescape(title) == "neurona run report: <b>run&'"
    table = report_html.table(["<i>h</i>"], [["<x>", 1.5]], id="t")
    assert str(table) == ('<table id="t"><thead><tr><th>&lt;i&gt;h&lt;/i&gt;</th></tr></thead>'
                          '<tbody><tr><th scope="row">&lt;x&gt;</th>'
                          '<td class="num" data-value="1.5">1.5</td></tr></tbody></table>')


def test_the_spanish_report_names_the_history_columns_in_spanish(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    assert main(["report", str(copy), "--lang", "es", "--no-animation", "--quiet"]) == 0
    page = Page((copy / "report.html").read_text(encoding="utf-8"))
    header = [c["text"] for c in page.tables["history"][0]]
    assert header == ["época", "pérdida", "sce", "exactitud", "norma_grad", "tasa_aprendizaje",
                      "pasadas"]
    metrics = [row[0]["text"] for row in page.tables["metrics"][1:]]
    assert "última época: pérdida" in metrics and "última época: norma_grad" in metrics
    assert not any(name.endswith((": loss", ": accuracy", ": grad_norm")) for name in metrics)
    t = messages("es")
    assert t.column("val_accuracy") == "exactitud_val" and t.column("new_one") == "new_one"
    assert messages("en").column("val_accuracy") == "val_accuracy"
