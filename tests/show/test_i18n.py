import ast
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
