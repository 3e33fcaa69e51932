import ast
import os
import re
import string
from pathlib import Path

import pytest

import neurona
from neurona.face.cli import main
from neurona.errors import NeuronaError
from neurona.show.i18n import CATALOGUE, LANGS, messages

SRC = Path(neurona.__file__).parent


def _fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_keys_and_placeholders():
    assert set(LANGS) == set(CATALOGUE)
    english = CATALOGUE["en"]
    for lang in LANGS:
        assert set(CATALOGUE[lang]) == set(english), lang
        for key, text in CATALOGUE[lang].items():
            assert _fields(text) == _fields(english[key]), (lang, key)


def test_spanish_is_really_translated():
    same = [k for k, v in CATALOGUE["es"].items() if v == CATALOGUE["en"][k]]
    # Only words that are the same in both languages (test, min, max...) may repeat.
    assert len(same) < 0.1 * len(CATALOGUE["en"]), same


def test_every_key_the_code_asks_for_exists():
    """Keys used as t("...") or messages(...)("...") in the sources are in the catalogue."""
    used = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and re.fullmatch(r"(fig|report|caption|cli|metric)\.[a-z_0-9]+",
                                     node.args[0].value)):
                used.add(node.args[0].value)
    assert used, "no catalogue keys found in the sources"
    from neurona.show.report_html import FIGURES

    used |= {caption for _, caption in FIGURES}
    assert used <= set(CATALOGUE["en"]), used - set(CATALOGUE["en"])


def test_messages_format_and_fall_back_to_column_names():
    t = messages("es")
    assert t("fig.class", k=0) == "clase 0"
    assert t.metric("accuracy") == "exactitud"
    assert t.metric("val_something_new") == "val_something_new"


def test_unknown_language_is_a_clear_error():
    with pytest.raises(NeuronaError, match="Unknown language 'fr'; choose one of en, es"):
        messages("fr")


def test_the_command_speaks_spanish(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--no-plots", "--lang", "es"]) == 0
    out = capsys.readouterr().out
    assert f"Experimento guardado en {tmp_path / 'r'}" in out
    assert "Run written to" not in out
    assert main(["train", "--lang", "fr"]) == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_the_command_says_early_stopping_in_spanish(tmp_path, capsys):
    assert main(["train", "--early-stopping", "--patience", "3", "--optimizer", "momentum",
                 "--epochs", "300", "--out", str(tmp_path / "r"), "--no-plots",
                 "--lang", "es"]) == 0
    out = capsys.readouterr().out
    assert "Parada temprana tras la época" in out and "val_loss no mejoró en 3 épocas" in out
    assert "se conservan los pesos de la época" in out
    assert "Early stopping" not in out


# --- the gettext catalogues (tools/i18n.py) -------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("neurona_i18n_tool", ROOT / "tools" / "i18n.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_the_committed_catalogues_are_up_to_date_and_complete():
    """The template is i18n.py's English, every .po has it all translated, every .mo is
    its .po compiled: what ``make i18n`` would change is nothing."""
    tool = _tool()
    assert tool.catalogues(), "no .po catalogue found"
    assert tool.problems() == []


def test_every_msgid_has_its_spanish_translation_in_the_po_file():
    from babel.messages.pofile import read_po

    with open(SRC / "show" / "locale" / "es" / "LC_MESSAGES" / "neurona.po", "rb") as po:
        catalog = read_po(po, locale="es")
    entries = {m.context: m for m in catalog if m.id}
    assert set(entries) == set(CATALOGUE["en"])
    for key, message in entries.items():
        assert message.id == CATALOGUE["en"][key], key
        assert message.string and not message.fuzzy, key
        assert message.string == CATALOGUE["es"][key], key


def test_the_check_finds_a_stale_mo_an_untranslated_entry_and_a_wrong_placeholder(tmp_path,
                                                                                  monkeypatch):
    import shutil

    tool = _tool()
    locale = tmp_path / "locale"
    shutil.copytree(SRC / "show" / "locale", locale)
    monkeypatch.setattr(tool, "LOCALE", locale)
    monkeypatch.setattr(tool, "TEMPLATE", locale / "neurona.pot")
    po = locale / "es" / "LC_MESSAGES" / "neurona.po"
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgstr "clase {k}"', 'msgstr "clase {n}"')
    text = text.replace('msgstr "Conjunto de datos"', 'msgstr ""')
    po.write_text(text, encoding="utf-8")
    found = "\n".join(tool.problems())
    assert "fig.class has the placeholders ['n'], its English ['k']" in found
    assert "fig.dataset is not translated" in found
    assert "neurona.mo is not" in found and "compiled: run make i18n" in found


def test_a_new_language_is_a_catalogue_and_no_code(tmp_path, monkeypatch):
    """``init`` starts a catalogue from the template; compiled, neurona speaks it."""
    import shutil

    tool = _tool()
    locale = tmp_path / "locale"
    locale.mkdir()
    shutil.copy(SRC / "show" / "locale" / "neurona.pot", locale / "neurona.pot")
    monkeypatch.setattr(tool, "LOCALE", locale)
    monkeypatch.setattr(tool, "TEMPLATE", locale / "neurona.pot")
    tool.init("fr")
    po = locale / "fr" / "LC_MESSAGES" / "neurona.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgctxt "fig.class"\nmsgid "class {k}"\nmsgstr ""',
        'msgctxt "fig.class"\nmsgid "class {k}"\nmsgstr "classe {k}"'), encoding="utf-8")
    tool.compile_all()
    from neurona.show import i18n

    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    assert i18n._languages() == ("en", "fr")
    table = i18n._table("fr")
    assert table["fig.class"].format(k=1) == "classe 1"
    assert table["fig.dataset"] == "Dataset"  # untranslated: the English


def test_the_catalogues_and_templates_are_package_data():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["neurona"]
    package = SRC
    for path in [*package.glob("show/locale/*/LC_MESSAGES/*.mo"),
                 *package.glob("show/templates/*")]:
        relative = path.relative_to(package)
        assert any(relative.match(pattern) for pattern in patterns), relative
    assert "babel>=2.18" in "".join(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


# --- every line of ``neurona train --lang es`` ------------------------------------------

EXAMPLES = ROOT / "examples"


def test_the_epoch_lines_and_the_test_report_are_spanish(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--no-plots", "--lang", "es",
                 "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "[0] log_loss: 1745.026102  sse: 318.732960  exactitud: 0.0257"
    header = lines[3]
    assert header.split() == ["precisión", "exhaustividad", "valor", "F1", "soporte"]
    for word in ("exactitud ", "media macro ", "media ponderada "):
        assert any(line.lstrip().startswith(word) for line in lines), word
    for english in ("accuracy", "precision", "recall", "f1-score", "support", "macro avg",
                    "weighted avg", "Run written"):
        assert english not in out, english
    # The columns stay aligned under their (wider) headings.
    rows = [line for line in lines[4:] if line.strip() and not line.startswith("[")
            and "Experimento" not in line]
    assert all(len(row) == len(header) for row in rows), rows


def test_the_classification_report_keeps_its_english_bytes():
    from neurona.show.metrics import classification_report, localized_report

    text = classification_report([0, 1, 1, 0], [0, 1, 0, 0], labels=[0, 1], zero_division=0)
    assert localized_report(text, "en") is text
    spanish = localized_report(text, "es")
    assert [line.split()[-1] for line in spanish.splitlines()[2:4]] == ["2", "2"]
    assert spanish.splitlines()[5].split() == ["exactitud", "0.75", "4"]


def test_the_data_line_and_the_task_note_are_spanish(tmp_path, capsys):
    assert main(["train", "--data", str(EXAMPLES / "penguins.csv"), "--target", "sex",
                 "--missing", "mean", "--epochs", "2", "--no-plots", "--lang", "es",
                 "--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    data = next(line for line in out.splitlines() if line.startswith("Datos: "))
    assert "(en memoria): 234 filas de entrenamiento, 99 filas de test, 11 omitidas" in data
    assert "species (3 categorías)" in data
    assert data.endswith("se rellenan con la media de las filas de entrenamiento")
    assert main(["train", "--data", str(EXAMPLES / "houses.csv"), "--target", "price",
                 "--epochs", "2", "--no-plots", "--lang", "es",
                 "--out", str(tmp_path / "h")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("neurona train: Se entrena una regresión (--task regress) con la "
                          "activación identidad y el error cuadrático medio: la columna "
                          "'price' tiene números con más de dos valores")
    assert "regresión de 'price' sobre 88 filas" in out and "varianza explicada" in out
    assert "Data:" not in out and "regression" not in out and "training rows" not in out


def test_the_data_line_and_the_task_note_stay_as_they_were_in_english(tmp_path, capsys):
    assert main(["train", "--data", str(EXAMPLES / "houses.csv"), "--target", "price",
                 "--epochs", "2", "--no-plots", "--out", str(tmp_path / "h")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("neurona train: Training a regression (--task regress) with the identity "
                      "activation and the mean squared error: column 'price' holds numbers "
                      "with more than two values; pass --task classify for a classifier.")
    data = next(line for line in out if line.startswith("Data: "))
    assert data == ("Data: examples/houses.csv (in memory): 212 training rows, 88 test rows; "
                      "target 'price' (numbers); features area, rooms, age"
                      ).replace("examples/houses.csv", os.path.relpath(EXAMPLES / "houses.csv"))
    assert "regression of 'price' on 88 rows" in out


def test_the_diverged_runs_last_line_is_spanish(tmp_path, capsys):
    assert main(["train", "--activation", "identity", "--loss", "squared_error", "--task",
                 "classify", "--learning-rate", "1", "--out", str(tmp_path / "r"), "--quiet",
                 "--no-animation", "--lang", "es"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.rstrip().endswith(f"Lo hecho hasta esa época está en {tmp_path / 'r'}.")


# --- errors said in the learner's language ---------------------------------------------

@pytest.mark.parametrize("argv, spanish", [
    (["--epochs", "0"], "--epochs debe ser un entero positivo; se recibió 0."),
    (["--optimizer", "momentum", "--momentum", "1.5"],
     "--momentum debe ser un número en [0, 1); se recibió 1.5."),
    (["--optimizer", "foo"], "argumento --optimizer: opción no válida: 'foo' (elige entre "),
    (["--epochs"], "argumento --epochs: falta su valor (consulta 'neurona train --help')"),
    (["--epochs", "abc"], "argumento --epochs: se esperaba un entero; se recibió 'abc'"),
    (["--data", "no-such-file.csv"], "no-such-file.csv: no existe ese archivo; revisa la ruta."),
])
def test_the_common_errors_are_said_in_spanish_with_lang_es(argv, spanish, capsys, tmp_path):
    assert main(["train", "--lang", "es", "--out", str(tmp_path / "r"), *argv]) == 2
    err = capsys.readouterr().err
    assert spanish in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
    assert main(["train", "--out", str(tmp_path / "r"), *argv]) == 2  # English without it
    assert spanish not in capsys.readouterr().err


def test_an_error_without_a_template_stays_as_it_is_and_english_is_untouched():
    t = messages("es")
    assert t.error("something nobody catalogued.") == "something nobody catalogued."
    assert messages("en").error("epochs must be a positive integer, got 0.") == \
        "epochs must be a positive integer, got 0."
    assert t.error("Unknown loss 'hinge'; choose one of log_loss, squared_error.") == \
        "loss desconocido: 'hinge'; elige uno de log_loss, squared_error."
    assert t.error("unrecognized arguments: --x (see 'neurona --help')") == \
        "argumentos no reconocidos: --x (consulta 'neurona --help')"
