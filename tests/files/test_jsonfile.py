"""The strict JSON reader and the format/version check shared by every file neurona reads."""

import json

import numpy as np
import pytest

import neurona
from neurona.errors import ModelFileError, NeuronaError, RunDirectoryError
from neurona.face.experiment import read_recorded_config
from neurona.files.jsonfile import MAX_DEPTH, check_format, dumps, read_json


class Refused(NeuronaError):
    """The error class these tests pass to the reader."""


def _file(tmp_path, content, name="f.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _refused(path, match, **kwargs):
    with pytest.raises(Refused, match=match) as info:
        read_json(path, what="test file", error=Refused, **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "test file" in message
    return message


# --- the reader ----------------------------------------------------------------------------

def test_reads_what_dumps_writes(tmp_path):
    doc = {"a": [1, 2.5, None, True], "b": {"c": "é"}, "d": -0.0}
    path = _file(tmp_path, dumps(doc))
    assert read_json(path, what="test file", error=Refused) == doc
    assert dumps(doc).endswith("}\n")
    with pytest.raises(ValueError):
        dumps({"x": float("nan")})


def test_neurona_io_dumps_is_the_same_function():
    from neurona.files import model as io

    assert io.dumps is dumps


def test_duplicate_key_is_refused(tmp_path):
    _refused(_file(tmp_path, '{"a": 1, "b": {"c": 1, "c": 2}}'), "duplicate key 'c'")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_constants_are_refused(tmp_path, constant):
    _refused(_file(tmp_path, f'{{"a": [1, {constant}]}}'),
             f"{constant} is not a valid JSON number")


@pytest.mark.parametrize("text", ["[" * 100_000, "[" * 100_000 + "]" * 100_000,
                                  '{"a": ' * 100_000])
def test_far_too_deep_nesting_is_one_line_not_a_recursion_error(tmp_path, text):
    _refused(_file(tmp_path, text), f"nested more than {MAX_DEPTH} levels deep")


def test_nesting_limit_is_exact(tmp_path):
    path = _file(tmp_path, "[" * 5 + "]" * 5)
    assert read_json(path, what="test file", error=Refused, max_depth=5) == [[[[[]]]]]
    _refused(path, "nested more than 4 levels deep", max_depth=4)
    # objects count like arrays, and a scalar at the top does not nest at all
    path = _file(tmp_path, '{"a": {"b": [1]}}')
    assert read_json(path, what="test file", error=Refused, max_depth=3)
    _refused(path, "nested more than 2 levels deep", max_depth=2)
    assert read_json(_file(tmp_path, "3"), what="test file", error=Refused, max_depth=0) == 3
    # deeper than the default limit but well within Python's recursion limit
    _refused(_file(tmp_path, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)),
             f"nested more than {MAX_DEPTH} levels deep")


def test_too_large_file_is_refused_before_it_is_parsed(tmp_path):
    path = _file(tmp_path, '{"a": "' + "x" * 100 + '"}')
    assert read_json(path, what="test file", error=Refused, max_bytes=200)["a"] == "x" * 100
    _refused(path, "larger than 50 bytes", max_bytes=50)
    # the size is checked first: even invalid content is refused for its size
    _refused(_file(tmp_path, b"\xff" * 60, "big.json"), "larger than 50 bytes", max_bytes=50)


def test_not_utf8_is_refused(tmp_path):
    message = _refused(_file(tmp_path, b'{"a": "\xe9"}'), r"not a text \(UTF-8\) file")
    assert "0xe9 at offset 7" in message


def test_invalid_json_is_refused_with_its_position(tmp_path):
    _refused(_file(tmp_path, '{"a": 1,\n "b" 2}'), r"not valid JSON.*line 2, column 6")
    _refused(_file(tmp_path, ""), "not valid JSON")


def test_directory_is_refused(tmp_path):
    _refused(tmp_path, "is a directory, not a test file")
    with pytest.raises(Refused, match="^use the file inside$"):
        read_json(tmp_path, what="test file", error=Refused, directory="use the file inside")


def test_missing_file_is_refused(tmp_path):
    _refused(tmp_path / "nope.json", "no such test file")
    with pytest.raises(Refused, match="^write it first$"):
        read_json(tmp_path / "nope.json", what="test file", error=Refused,
                  missing="write it first")


def test_the_error_class_defaults_to_neurona_error(tmp_path):
    with pytest.raises(NeuronaError, match="no such checkpoint"):
        read_json(tmp_path / "nope.json", what="checkpoint")


# --- the format check ----------------------------------------------------------------------

def _check(doc, **kwargs):
    return check_format(doc, **{"format": "neurona-test", "versions": (1, 2),
                                "where": "f.json", "what": "test file", "error": Refused,
                                **kwargs})


def test_accepted_versions_pass():
    for version in (1, 2):
        doc = {"format": "neurona-test", "format_version": version, "x": 0}
        assert _check(doc, fields=("x",)) is doc


@pytest.mark.parametrize("doc,match", [
    ([1], r"f\.json: not a neurona test file \(expected a JSON object, found an array\)"),
    ({"format": "other"}, r"not a neurona test file \(format is 'other', expected "
                          r"'neurona-test'\)"),
    ({}, r"format is None"),
    ({"format": "neurona-test", "format_version": "1"}, r"format_version must be an integer, "
                                                        r"got '1'"),
    ({"format": "neurona-test", "format_version": True}, r"must be an integer, got True"),
    ({"format": "neurona-test"}, r"must be an integer, got None"),
    ({"format": "neurona-test", "format_version": 3},
     r"test file format version 3 is not supported; this neurona reads version 1, 2"),
    ({"format": "neurona-test", "format_version": 1}, r"missing field\(s\): x, y"),
])
def test_wrong_documents_are_refused(doc, match):
    with pytest.raises(Refused, match=match) as info:
        _check(doc, fields=("x", "y"))
    assert "\n" not in str(info.value)


def test_unsupported_version_names_the_neurona_that_wrote_it():
    doc = {"format": "neurona-test", "format_version": 9, "neurona_version": "9.0.0"}
    with pytest.raises(Refused, match=r"Use the neurona version that wrote the file "
                                      r"\(neurona 9\.0\.0\)"):
        _check(doc)


def test_other_accepted_formats_are_named():
    with pytest.raises(Refused, match="expected 'neurona-test' or 'neurona-model'"):
        _check({"format": "x"}, also=("neurona-model",))


# --- every kind of file neurona reads ------------------------------------------------------

DEEP = "[" * 100_000


def _one_line(info, path, kind):
    message = str(info.value)
    assert "\n" not in message and str(path) in message and kind in message
    assert "nested more than" in message
    assert not isinstance(info.value.__context__, RecursionError)


def test_deep_model_file(tmp_path):
    path = _file(tmp_path, DEEP, "model.json")
    with pytest.raises(ModelFileError) as info:
        neurona.load(path)
    _one_line(info, path, "model file")


def test_deep_checkpoint(tmp_path):
    path = _file(tmp_path, DEEP, "checkpoint.json")
    with pytest.raises(NeuronaError) as info:
        neurona.load_checkpoint(path)
    _one_line(info, path, "checkpoint")
    with pytest.raises(NeuronaError) as info:  # a run directory: its checkpoint.json
        neurona.load_checkpoint(tmp_path)
    _one_line(info, path, "checkpoint")


def test_deep_config(tmp_path):
    path = _file(tmp_path, DEEP, "config.json")
    with pytest.raises(RunDirectoryError) as info:
        read_recorded_config(tmp_path)
    _one_line(info, path, "run configuration")


def test_deep_estimator_file(tmp_path):
    from neurona import NeuronClassifier

    path = _file(tmp_path, DEEP, "estimator.json")
    with pytest.raises(ModelFileError) as info:
        NeuronClassifier.load(path)
    _one_line(info, path, "model file")


# --- what each reader adds, now that they share one ---------------------------------------

def test_checkpoint_refusals(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    neurona.train(neurona.Neuron([0.0]), np.array([[0.0], [1.0]]), [0, 1], epochs=2,
                  callbacks=[neurona.Checkpoint(run / "checkpoint.json")])
    good = json.loads((run / "checkpoint.json").read_text())
    assert neurona.load_checkpoint(run)["format"] == "neurona-checkpoint"
    for doc, match in [(dict(good, format="neurona-model"), "not a neurona checkpoint"),
                       (dict(good, format_version=2),
                        "checkpoint format version 2 is not supported"),
                       ({k: v for k, v in good.items() if k != "history"},
                        r"missing field\(s\): history")]:
        (run / "checkpoint.json").write_text(json.dumps(doc))
        with pytest.raises(NeuronaError, match=match):
            neurona.load_checkpoint(run)
    (run / "checkpoint.json").write_bytes(b'{"format": "\xff"}')  # was a UnicodeDecodeError
    with pytest.raises(NeuronaError, match=r"not a text \(UTF-8\) file, so not a checkpoint"):
        neurona.load_checkpoint(run)
    (run / "checkpoint.json").unlink()
    (run / "checkpoint.json" / "checkpoint.json").mkdir(parents=True)  # an IsADirectoryError
    with pytest.raises(NeuronaError, match="is a directory, not a checkpoint"):
        neurona.load_checkpoint(run / "checkpoint.json")
    with pytest.raises(NeuronaError, match="no checkpoint; a run directory holds one"):
        neurona.load_checkpoint(tmp_path)


def test_config_refusals(tmp_path):
    with pytest.raises(RunDirectoryError, match="has no config.json; is it a neurona run"):
        read_recorded_config(tmp_path)
    _file(tmp_path, '{"command": "train", "command": "train"}', "config.json")
    with pytest.raises(RunDirectoryError, match=r"config\.json: duplicate key 'command'"):
        read_recorded_config(tmp_path)
    _file(tmp_path, '{"command": "predict"}', "config.json")
    with pytest.raises(RunDirectoryError, match="does not describe a training run"):
        read_recorded_config(tmp_path)


def test_estimator_refusals(tmp_path):
    from neurona import NeuronClassifier

    path = _file(tmp_path, '{"format": "neurona-checkpoint"}', "e.json")
    with pytest.raises(ModelFileError, match="not a neurona estimator or model file .*expected "
                                             "'neurona-estimator' or 'neurona-model'"):
        NeuronClassifier.load(path)
    path = _file(tmp_path, '{"format": "neurona-estimator", "format_version": 7}', "e.json")
    with pytest.raises(ModelFileError, match="estimator or model file format version 7 is not "
                                             "supported"):
        NeuronClassifier.load(path)
    with pytest.raises(ModelFileError, match="is a directory, not a model file"):
        NeuronClassifier.load(tmp_path)
