"""TrainSpec: every training setting defined once, checked once, recorded and read back."""

import numpy as np
import pytest

from neurona import TrainSpec, train
from neurona.core.neuron import Neuron
from neurona.errors import NeuronaError, SettingError
from neurona.face import cli, experiment


def test_the_defaults_are_the_posts_loop():
    spec = TrainSpec()
    assert (spec.epochs, spec.learning_rate, spec.loss, spec.reduction, spec.optimizer,
            spec.batch_size) == (100, 0.01, "log_loss", "sum", "gd", None)


@pytest.mark.parametrize("settings,problem", [
    (dict(epochs=0), "epochs must be a positive integer, got 0."),
    (dict(learning_rate=float("nan")), "learning_rate must be a positive number, got nan."),
    (dict(momentum=1.0), "momentum must be a number in [0, 1), got 1.0."),
    (dict(patience=True), "patience must be a positive integer, got True."),
    (dict(shuffle="yes"), "shuffle must be True or False, got 'yes'."),
    (dict(class_weight={0: -1}), "class_weight[0] must be a number in [0, inf), got -1."),
    (dict(validation_fraction=1), "validation_fraction must be a number in (0, 1), got 1."),
])
def test_each_setting_is_checked_when_the_spec_is_built(settings, problem):
    with pytest.raises(SettingError) as info:
        TrainSpec(**settings)
    assert str(info.value) == problem
    assert info.value.as_option("--x").args[0].startswith("--x ")


def test_unknown_names_are_refused():
    for settings in (dict(optimizer="sgdx"), dict(schedule="linear"), dict(dtype="float16"),
                     dict(kernel="gpu"), dict(loss="hinge"), dict(reduction="max")):
        with pytest.raises(NeuronaError, match="Unknown"):
            TrainSpec(**settings)


def test_to_dict_and_back_is_the_same_spec():
    spec = TrainSpec(optimizer="adam", class_weight={0: 1, 1: 3.5}, random_state=4,
                     early_stopping=True, batch_size=16, dtype="float32")
    assert TrainSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(NeuronaError, match="Unknown training setting"):
        TrainSpec.from_dict({**spec.to_dict(), "rate": 1})


def test_early_stopping_validates_on_ten_percent_unless_told():
    assert TrainSpec(early_stopping=True).validation() == 0.1
    assert TrainSpec(early_stopping=True).validation(has_data=True) is None
    assert TrainSpec(early_stopping=True, validation_fraction=0.3).validation() == 0.3
    assert TrainSpec().validation() is None


def test_the_command_line_takes_its_defaults_and_help_from_the_spec():
    parser = cli.build_parser().train_parser
    actions = {a.dest: a for a in parser._actions}
    for name, flags in cli.SPEC_FLAGS.items():
        if name == "random_state":  # --seed also draws the initial weights: the experiment's
            continue
        action = actions[name]
        assert action.default == TrainSpec.defaults()[name], name
        assert action.option_strings[0] == flags[0]
        assert action.help.replace("%%", "%") == TrainSpec.describe(name)


def test_every_training_setting_has_a_flag_or_is_library_only():
    library_only = {"kernel"}
    assert set(TrainSpec.names()) == set(cli.SPEC_FLAGS) | library_only


def test_the_experiment_takes_its_training_defaults_from_the_spec():
    for name in experiment.SPEC_KEYS:
        assert experiment.DEFAULTS[name] == TrainSpec.defaults()[name]
    assert set(experiment.SPEC_KEYS) == set(TrainSpec.names()) - {"random_state", "kernel"}


def test_train_takes_a_spec_or_its_settings_alike():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    spec = TrainSpec(epochs=5, learning_rate=0.3, optimizer="adam", batch_size=2,
                     random_state=0)
    a, b = Neuron([0.1]), Neuron([0.1])
    h_spec = train(a, X, y, spec=spec)
    h_kw = train(b, X, y, epochs=5, learning_rate=0.3, optimizer="adam", batch_size=2,
                 random_state=0)
    assert h_spec.rows == h_kw.rows
    c = Neuron([0.1])
    assert train(c, X, y, spec=spec, epochs=3).rows == h_spec.rows[:3]  # settings on top
