"""Every string a person reads in a figure, the HTML report or the command's messages.

The English text of each message is written here, once, under a key (``fig.class``,
``report.title``...); the other languages are gettext catalogues in
``locale/<lang>/LC_MESSAGES/neurona.po`` (compiled to ``neurona.mo``, shipped with the
package). A translator adds a language without reading code: ``tools/i18n.py init LANG``
starts a catalogue from the template ``locale/neurona.pot``, and ``make i18n`` extracts the
English from this module, merges it into every catalogue and compiles them. In a catalogue
the key is the entry's context (``msgctxt``) and the English is its ``msgid``.

Every language has the same keys and the same ``{placeholders}`` (a test checks both).
English is the default; Spanish serves the readers of the tutorial post neurona reproduces.
Metric and column names that are identifiers (``loss``, ``sse``, ``val_accuracy``...) are not
translated where they name a file's column; their human labels are.

>>> t = messages("es")
>>> t("fig.class", k=1)
'clase 1'
"""

from __future__ import annotations

import gettext
import string
from pathlib import Path

from ..errors import NeuronaError

DOMAIN = "neurona"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANG = "en"


def _m(key: str, english: str) -> tuple[str, str]:
    """One message: its key and its English text (the marker ``tools/i18n.py`` extracts)."""
    return key, english


ENGLISH: dict[str, str] = dict((
    _m('fig.dataset', 'Dataset'),
    _m('fig.test_truth', 'Test set: truth'),
    _m('fig.test_predictions', 'Test set: predictions'),
    _m('fig.loss_title', 'Training Loss'),
    _m('fig.epoch', 'Epoch #'),
    _m('fig.loss', 'Loss'),
    _m('fig.class', 'class {k}'),
    _m('fig.boundary', 'Decision boundary'),
    _m('fig.held_at_mean', '{names} held at their mean'),
    _m('fig.others_held_at_mean', 'the other {n} features held at their mean'),
    _m('fig.proba', 'P(class 1)'),
    _m('fig.proba_of', 'P({label})'),
    _m('fig.output', 'neuron output'),
    _m('fig.threshold', '{value} = {t:g} (threshold)'),
    _m('fig.train', 'train'),
    _m('fig.test', 'test'),
    _m('fig.misclassified', 'misclassified ({n})'),
    _m('fig.learning_curves', 'Learning curves'),
    _m('fig.validation', 'validation'),
    _m('metric.loss', 'objective (training loss)'),
    _m('metric.sse', "summed squared error (the post's loss)"),
    _m('metric.accuracy', 'accuracy'),
    _m('metric.learning_rate', 'learning rate'),
    _m('metric.grad_norm', 'gradient norm'),
    _m('metric.passes', 'passes over the training rows'),
    _m('fig.weights', 'Weights over the epochs'),
    _m('fig.weight_value', 'value'),
    _m('fig.bias', 'bias b'),
    _m('fig.top_weights', 'the {k} largest of {n} weights (by their final |w|)'),
    _m('fig.confusion', 'Confusion matrix (test set)'),
    _m('fig.predicted_label', 'predicted class'),
    _m('fig.true_label', 'true class'),
    _m('fig.roc', 'ROC curve (test set)'),
    _m('fig.fpr', 'false positive rate'),
    _m('fig.tpr', 'true positive rate'),
    _m('fig.auc', 'neuron (AUC = {auc:.3f})'),
    _m('fig.chance', 'chance'),
    _m('fig.roc_one_class', 'The test set holds one class only:\nno ROC curve.'),
    _m('fig.target', 'target y'),
    _m('fig.scaled_target', '(of the standardised target)'),
    _m('fig.target_named', 'target {name}'),
    _m('fig.fit', "The neuron's fit"),
    _m('fig.fit_line', 'prediction'),
    _m('fig.prediction_and_target', 'prediction ŷ (field) and {target} (points)'),
    _m('fig.predicted_vs_actual', 'Predicted against actual (test set)'),
    _m('fig.actual', 'actual {target}'),
    _m('fig.predicted', 'predicted {target}'),
    _m('fig.test_r2', 'test (R² = {r2})'),
    _m('fig.diagonal', 'y = x (exact prediction)'),
    _m('fig.residuals', 'Residuals against predictions (test set)'),
    _m('fig.residual', 'residual (prediction − actual)'),
    _m('fig.zero_residual', 'zero residual'),
    _m('fig.residual_distribution', 'Distribution of the residuals (test set)'),
    _m('fig.count', 'rows'),
    _m('fig.mean_std', '{n} rows\nmean = {mean:.3g}\nstd = {std:.3g}'),
    _m('fig.normal_density', 'normal, same mean and std'),
    _m('fig.left_out', '{n} rows left out: their prediction is too large to draw'),
    _m('fig.fit_left_out', 'left blank where the prediction is too large to draw'),
    _m('metric.r2', 'R² (coefficient of determination)'),
    _m('metric.mae', 'mean absolute error'),
    _m('fig.animation_title', 'after {epoch} of {n} epochs'),
    _m('report.title', 'neurona run report'),
    _m('report.subtitle', 'Run {name}, written {created} by neurona {version}.'),
    _m('report.offline', 'This page is self-contained: every figure is inside it and it makes '
                         'no network request.'),
    _m('report.contents', 'Contents'),
    _m('report.summary', 'Summary'),
    _m('report.configuration', 'Configuration'),
    _m('report.setting', 'setting'),
    _m('report.value', 'value'),
    _m('report.dataset', 'Dataset'),
    _m('report.samples', 'samples'),
    _m('report.features', 'features'),
    _m('report.train_samples', 'training samples'),
    _m('report.test_samples', 'test samples'),
    _m('report.class_counts', 'class 0 / class 1 ({part})'),
    _m('report.class_counts_named', '{first} / {second} ({part})'),
    _m('report.feature', 'feature'),
    _m('report.mean', 'mean'),
    _m('report.std', 'std'),
    _m('report.min', 'min'),
    _m('report.max', 'max'),
    _m('report.feature_stats', 'Features of the training set'),
    _m('report.metrics', 'Metrics'),
    _m('report.metric', 'metric'),
    _m('report.test_accuracy', 'test accuracy'),
    _m('report.roc_auc', 'test ROC AUC'),
    _m('report.final', 'last epoch: {name}'),
    _m('report.epochs_run', 'epochs run'),
    _m('report.classification_report', 'Classification report (test set)'),
    _m('report.class', 'class'),
    _m('report.precision', 'precision'),
    _m('report.recall', 'recall'),
    _m('report.f1', 'f1-score'),
    _m('report.support', 'support'),
    _m('report.accuracy_row', 'accuracy'),
    _m('report.macro_avg', 'macro avg'),
    _m('report.weighted_avg', 'weighted avg'),
    _m('report.regression_of', 'regression of {target} on {n} rows'),
    _m('report.regression_on', 'regression on {n} rows'),
    _m('report.regression_scores', 'Regression scores (test set)'),
    _m('report.test_rows', 'test rows'),
    _m('report.score_r2', 'R² (coefficient of determination)'),
    _m('report.score_mae', 'MAE (mean absolute error)'),
    _m('report.score_rmse', 'RMSE (root mean squared error)'),
    _m('report.score_explained_variance', 'explained variance'),
    _m('report.no_test_rows', 'No test rows (every row was trained on), so no test scores.'),
    _m('report.target', 'target'),
    _m('report.target_named', 'target {name}'),
    _m('report.task', 'task'),
    _m('report.task_regress', 'regression'),
    _m('report.target_scaling', 'target scaling'),
    _m('report.model', 'Model'),
    _m('report.parameter', 'parameter'),
    _m('report.activation', 'activation'),
    _m('report.loss_name', 'loss'),
    _m('report.threshold', 'threshold'),
    _m('report.weight', 'weight {name}'),
    _m('report.category_column', '{name}: one-hot, {n} categories'),
    _m('report.missing_rule', 'missing values'),
    _m('report.unknown_rule', 'unknown categories'),
    _m('report.hash_column', '{name}: hashed into {n} features'),
    _m('report.bias', 'bias'),
    _m('report.top_weights', 'The {k} largest of the {n} weights by their final |w|; '
                             'model.json holds them all.'),
    _m('report.top_features', 'The {k} features of the largest weights, of {n}.'),
    _m('report.feature_names_more', '{names}, … ({n} in all)'),
    _m('report.initial', 'initial'),
    _m('report.final_value', 'final'),
    _m('report.figures', 'Figures'),
    _m('report.animation', 'Training animation'),
    _m('report.animation_caption', 'The decision boundary and the loss, epoch by epoch '
                                   '({frames} frames).'),
    _m('report.animation_caption_regress', "The neuron's fit and the loss, epoch by epoch "
                                           '({frames} frames).'),
    _m('report.no_trajectory', 'This run did not record its weights per epoch (no weights.csv), '
                               'so there is no weight trajectory and no animation.'),
    _m('report.column_epoch', 'epoch'),
    _m('report.column_loss', 'loss'),
    _m('report.column_sse', 'sse'),
    _m('report.column_accuracy', 'accuracy'),
    _m('report.column_r2', 'r2'),
    _m('report.column_mae', 'mae'),
    _m('report.column_grad_norm', 'grad_norm'),
    _m('report.column_learning_rate', 'learning_rate'),
    _m('report.column_passes', 'passes'),
    _m('report.column_val', 'val_{name}'),
    _m('report.history', 'History, per epoch'),
    _m('report.history_all', "{n} epochs, one row each (the values of each epoch's forward "
                             'pass, before its update).'),
    _m('report.history_thinned', '{shown} of {n} epochs shown (one in {step}, and the last); '
                                 'history.csv holds them all.'),
    _m('caption.data', "The dataset, coloured by class (the post's first figure)."),
    _m('caption.test_truth', 'The test set with its true classes.'),
    _m('caption.test_predictions', "The test set with the neuron's predicted classes."),
    _m('caption.loss', "The loss per epoch (the post's last figure)."),
    _m('caption.decision_boundary', "The neuron's output over the plane, its threshold contour, "
                                    'the training and test points, and the misclassified ones '
                                    'circled.'),
    _m('caption.learning_curves', 'Every metric the history recorded, per epoch.'),
    _m('caption.weights', 'Each weight and the bias at the start of every epoch.'),
    _m('caption.confusion_matrix', 'Counts of true against predicted classes on the test set.'),
    _m('caption.roc_curve', 'True against false positive rate as the threshold moves.'),
    _m('caption.data_regress', 'The dataset, each point coloured by its target (with one '
                               'feature, the points against their target).'),
    _m('caption.fit', "The neuron's prediction over the training and test points: the fitted "
                      'line, or the prediction as a colour field under the points coloured by '
                      'their target on the same scale.'),
    _m('caption.loss_regress', 'The loss per epoch: the objective and the summed squared error '
                               'over the training rows.'),
    _m('caption.predicted_vs_actual', "Each test row's prediction against its actual value; on "
                                      'the diagonal the prediction is exact.'),
    _m('caption.residuals', "Each test row's residual (prediction − actual) against its "
                            'prediction; a fit that missed nothing leaves an even band around '
                            'zero.'),
    _m('caption.residual_distribution', 'How the test residuals are spread, with their mean and '
                                        'standard deviation, beside a normal curve.'),
    _m('cli.accuracy', 'accuracy'),
    _m('cli.bar_epoch', 'epoch'),
    _m('cli.bar_eta', 'ETA'),
    _m('cli.data', 'Data: {path} ({how}): {n_train} training rows, {tested}; target {target} '
                   '({classes}); features {features}{filled}'),
    _m('cli.data_numbers', 'numbers'),
    _m('cli.data_dask', 'on Dask'),
    _m('cli.data_streamed', 'streamed'),
    _m('cli.data_in_memory', 'in memory'),
    _m('cli.data_test_rows', '{n} test rows'),
    _m('cli.data_no_test_rows', 'no test rows'),
    _m('cli.data_left_out', ', {n} left out (a missing value)'),
    _m('cli.data_categories', '{name} ({n} categories)'),
    _m('cli.data_hashed', '{name} (hashed into {n})'),
    _m('cli.data_filled_mean', "; missing values filled in with the training rows' mean"),
    _m('cli.data_filled_median', "; missing values filled in with the training rows' median"),
    _m('cli.data_filled_most_frequent', "; missing values filled in with the training rows' "
                                        'most frequent'),
    _m('cli.task_note_mean', 'training a regression (--task regress) with the identity '
                             'activation and the mean squared error: {why}; pass --task '
                             'classify for a classifier.'),
    _m('cli.task_note_sum', 'training a regression (--task regress) with the identity '
                            'activation and the sum squared error: {why}; pass --task classify '
                            'for a classifier.'),
    _m('cli.task_why_column', 'column {column} holds numbers with more than two values'),
    _m('cli.task_why_dataset', "the {name} dataset's targets are numbers"),
    _m('cli.task_why_plane', 'the plane dataset, a noisy linear function'),
    # Errors a learner meets most, as templates: Messages.error matches an English error
    # against them and says it in the catalogue's language (others stay as they are).
    _m('error.positive_integer', '{name} must be a positive integer, got {value}.'),
    _m('error.positive_number', '{name} must be a positive number, got {value}.'),
    _m('error.non_negative_number', '{name} must be a non-negative number, got {value}.'),
    _m('error.number_in', '{name} must be a number in {interval}, got {value}.'),
    _m('error.true_or_false', '{name} must be True or False, got {value}.'),
    _m('error.unknown_choice', 'Unknown {what} {value}; choose one of {choices}.'),
    _m('error.no_file', '{path}: no such file; check the path.'),
    _m('error.no_target', '{path}: no target column {column}; columns found: {columns}.'),
    _m('error.invalid_choice', 'argument {option}: invalid choice: {value} (choose from {choices})'),
    _m('error.expected_one', 'argument {option}: expected one argument'),
    _m('error.expected_integer', 'argument {option}: expected an integer, got {value}'),
    _m('error.expected_number', 'argument {option}: expected a number, got {value}'),
    _m('error.expected_number_in', 'argument {option}: expected a number in {interval}, got {value}'),
    _m('error.unrecognized', 'unrecognized arguments: {arguments}'),
    _m('error.required', 'the following arguments are required: {arguments}'),
    _m('error.between', '{name} must be between {low} and {high}, got {value}.'),
    _m('error.a_number', '{name} must be a number, got {value}.'),
    _m('error.one_of', '{name} must be one of {choices}, got {value}.'),
    _m('error.see_help', "{message} (see '{prog} --help')"),
    _m('cli.run_written', 'Run written to {path}'),
    _m('cli.report_written', 'Report written to {path}'),
    _m('cli.converged', 'lbfgs converged after {epochs} iterations ({passes} passes over '
                        'the training rows).'),
    _m('cli.early_stopping', 'Early stopping after epoch {epoch}: {monitor} did not improve for '
                             '{patience} epochs{kept}.'),
    _m('cli.kept_best', '; kept the weights of epoch {epoch}'),
    _m('cli.diverged', 'neurona train: error: {error} The run up to that epoch is in {path}.'),
    _m('cli.interrupted', 'neurona train: interrupted'),
    _m('cli.interrupted_after', 'neurona train: interrupted after epoch {epoch}; the run so far '
                                'is in {path}'),
    _m('cli.interrupted_at_epoch', 'neurona train: interrupted at epoch {epoch}; the run so far '
                                   'is in {path}; continue it with: neurona train --resume '
                                   '{path}'),
    _m('cli.interrupted_at_batch', 'neurona train: interrupted at epoch {epoch}, batch {batch}; '
                                   'the run so far is in {path}; continue it with: neurona '
                                   'train --resume {path}'),
    _m('cli.interrupted_after_training', 'neurona train: interrupted after training; the run is '
                                         'complete in {path}'),
    _m('cli.interrupted_figures', 'neurona train: interrupted after training; the run is '
                                  'complete in {path} but for its figures; draw them with: '
                                  'neurona report {path}'),
    _m('cli.figures_interrupted', 'neurona train: the figures were not drawn; draw them with: '
                                  'neurona report {path}'),
    _m('cli.leftovers', 'neurona train: removed what killed runs had left: {paths}'),
    _m('cli.leftover_restored', '{path} was put back (replacing it was cut short)'),
    _m('cli.leftover_training', '{path} was killed while training, after its checkpoint of '
                                'epoch {epoch}; continue it with: neurona train --resume {path}'),
    _m('cli.leftover_figures', '{path} was killed while its figures were drawn; draw them with: '
                               'neurona report {path}'),
    # The playground's page (face/playground_static): its labels, notes and messages.
    _m('page.playground', 'playground'),
    _m('page.tagline', "One neuron, trained by neurona's own loop in Python; this page only "
                       'draws.'),
    _m('page.language', 'Language'),
    _m('page.settings', 'Settings'),
    _m('page.data', 'Data'),
    _m('page.dataset', 'Dataset'),
    _m('page.noise', 'Noise'),
    _m('page.n_samples', 'Points'),
    _m('page.seed', 'Seed'),
    _m('page.model', 'Model'),
    _m('page.activation', 'Activation'),
    _m('page.loss', 'Loss'),
    _m('page.scale', 'Scaling'),
    _m('page.training', 'Training'),
    _m('page.optimizer', 'Optimizer'),
    _m('page.learning_rate', 'Learning rate'),
    _m('page.batch_size', 'Batch size'),
    _m('page.epochs', 'Epochs'),
    _m('page.apply', 'Apply'),
    _m('page.plane', 'The data and the decision boundary'),
    _m('page.play', 'Play'),
    _m('page.pause', 'Pause'),
    _m('page.step', 'One update'),
    _m('page.one_epoch', 'One epoch'),
    _m('page.reset', 'Reset'),
    _m('page.speed', 'Speed'),
    _m('page.keys', 'Keys: Space play/pause, S one update, E one epoch, R reset.'),
    _m('page.neuron', 'The neuron'),
    _m('page.epoch', 'Epoch'),
    _m('page.update', 'Updates'),
    _m('page.status', 'Status'),
    _m('page.train_loss', 'Training loss'),
    _m('page.train_accuracy', 'Training accuracy'),
    _m('page.test_loss', 'Test loss'),
    _m('page.test_accuracy', 'Test accuracy'),
    _m('page.train_r2', 'Training R²'),
    _m('page.test_r2', 'Test R²'),
    _m('page.train', 'training'),
    _m('page.test', 'test'),
    _m('page.download', 'Download model.json'),
    _m('page.ready', 'ready'),
    _m('page.paused', 'paused'),
    _m('page.playing', 'playing'),
    _m('page.finished', 'finished'),
    _m('page.diverged', 'diverged'),
    _m('page.converged', 'converged'),
    _m('page.connecting', 'connecting…'),
    _m('page.disconnected', 'The connection to the playground was lost: is neurona playground '
                            'still running?'),
    _m('page.legend_classify', "Colour: the neuron's output (blue 0, red 1); line: the decision "
                               'boundary; filled: training points, rings: test points.'),
    _m('page.legend_regress', "Colour: the neuron's prediction (dark low, yellow high); points: "
                              'the targets, same scale; rings: test points.'),
    _m('page.loss_axis', 'loss'),
    _m('page.accuracy_axis', 'accuracy'),
    _m('page.r2_axis', 'R²'),
    _m('page.epoch_axis', 'epoch'),
    _m('page.diverged_note', 'Training diverged; the weights shown are the last finite ones.'),
    _m('page.your_file', 'your file'),
    _m('page.upload', 'Your CSV or Parquet file'),
    _m('page.target', 'Target'),
    _m('page.missing', 'Missing values'),
    _m('page.plane_x', 'Across the plane'),
    _m('page.plane_y', 'Up the plane'),
    _m('page.uploaded', 'rows'),
    _m('page.class0', 'class 0'),
    _m('page.class1', 'class 1'),
    _m('page.clicking', 'Click the plane to follow the nearest training point through the '
                        'neuron, or to add a point of the chosen class; Shift-click removes '
                        'the nearest.'),
    _m('page.download_run', 'Download the run (zip)'),
    _m('page.take_away', 'The same run, from the command line and in Python'),
    _m('page.edited_note', "The clicked points are the page's own: the command and the code train"
                           ' on the dataset as generated.'),
    _m('page.copy', 'Copy'),
    _m('page.copied', 'Copied.'),
    _m('page.not_editable', 'Points are added by clicking on the built-in two-class datasets.'),
    _m('page.lang_name', 'English'),
    _m('page.dataset_plane', 'plane (regression)'),
    _m('page.dataset_gaussians', 'gaussians (regression)'),
    _m('page.momentum', 'Momentum'),
    _m('page.beta_1', 'β₁ (first moment)'),
    _m('page.beta_2', 'β₂ (second moment)'),
    _m('page.epsilon', 'ε'),
    _m('page.rho', 'ρ (mean square decay)'),
    _m('page.weight_decay', 'Weight decay'),
    _m('page.schedule', 'Learning-rate schedule'),
    _m('page.decay_rate', 'Decay factor'),
    _m('page.decay_steps', 'Updates per decay'),
    _m('page.power_t', 'Exponent t'),
    _m('page.end_learning_rate', 'End learning rate'),
    _m('page.race', 'Race'),
    _m('page.race_against', 'Race against'),
    _m('page.race_none', 'no race'),
    _m('page.race_learning_rate', 'Its learning rate'),
    _m('page.race_note', 'A second optimizer trains from the same weights on the same points: its'
                         ' boundary is dashed, its curves and path are the thin lines.'),
    _m('page.race_command', "The racing optimizer's run"),
    _m('page.optimizer_col', 'optimizer'),
    _m('page.surface_title', 'The loss surface over two weights'),
    _m('page.surface_legend', "Colour: the training objective over the plane's two weights (dark "
                              'low, yellow high, log scale), the bias and any other weights held '
                              "at their current values; line: the optimizer's path, ring: its "
                              'start, dot: now.'),
    _m('page.inspect', 'inspect a point'),
    _m('page.clicking_fixed', 'Click the plane to follow the nearest training point through the '
                              'neuron.'),
    _m('page.point_title', 'One training point, step by step'),
    _m('page.point_none', 'Click a point on the plane to follow it through the neuron.'),
    _m('page.step_input', 'the point as the neuron sees it'),
    _m('page.step_target', 'its target'),
    _m('page.step_z', 'net input'),
    _m('page.step_a', 'output'),
    _m('page.step_loss', 'its loss'),
    _m('page.step_dl_dz', "the loss's slope in z"),
    _m('page.step_gradient', 'its part of the gradient'),
    _m('page.step_share', "its share of all the points' pull"),
    _m('page.step_alignment', 'its alignment with the whole gradient'),
    _m('page.share_note', "Each point's part of the gradient is ∂l/∂z times the point (and 1 "
                          'for the bias); the parts of all training points add up to the '
                          "data's gradient (the penalty comes on top). Its share is its "
                          "part's length over the sum of all the lengths (the shares sum to "
                          '100%); its alignment is the cosine with the whole gradient: near 1 '
                          'it pulls the way the step goes, below 0 against it.'),
    _m('page.controls_label', 'training controls'),
    _m('page.plane_label', "data points over the neuron's output"),
    _m('page.curves_label', 'loss and score per epoch'),
    _m('page.surface_label', "the training loss over two weights, with the optimizer's path"),
))


def _languages() -> tuple[str, ...]:
    """English, then every language with a compiled catalogue beside this module."""
    found = sorted(path.parent.parent.name
                   for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (DEFAULT_LANG, *(lang for lang in found if lang != DEFAULT_LANG))


def _table(lang: str) -> dict[str, str]:
    """Every message of ``lang``: its catalogue's translation, or the English one if missing."""
    if lang == DEFAULT_LANG:
        return dict(ENGLISH)
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    return {key: translations.pgettext(key, english) for key, english in ENGLISH.items()}


def _pattern(template: str) -> "re.Pattern":
    """The regular expression of an English template: each ``{field}`` any text."""
    import re

    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field:
            parts.append(f"(?P<{field}>.+?)" if field != "message" else f"(?P<{field}>.+)")
    return re.compile("".join(parts), re.S)


#: The error templates as patterns, those that wrap another message first.
_ERROR_PATTERNS = sorted(((key, _pattern(english)) for key, english in ENGLISH.items()
                          if key.startswith("error.")), key=lambda kp: "message" not in
                         kp[1].groupindex)
LANGS = _languages()
CATALOGUE: dict[str, dict[str, str]] = {lang: _table(lang) for lang in LANGS}


def check_lang(lang: str) -> str:
    """Return ``lang`` if neurona speaks it, else raise a one-line error."""
    if lang not in CATALOGUE:
        raise NeuronaError(f"Unknown language {lang!r}; choose one of {', '.join(LANGS)}.")
    return lang


class Messages:
    """The catalogue of one language: ``t("key", **values)`` is the formatted string."""

    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = check_lang(lang)
        self._table = CATALOGUE[lang]

    def __call__(self, key: str, **values) -> str:
        return self._table[key].format(**values) if values else self._table[key]

    def has(self, key: str) -> bool:
        return key in self._table

    def error(self, text: str) -> str:
        """An English error message said in this language, when it matches one of the
        ``error.*`` templates (their ``{fields}`` stand for any text, kept as it is);
        otherwise ``text`` itself. ``error.see_help`` wraps another such message."""
        text = str(text)
        if self.lang == DEFAULT_LANG:
            return text
        for key, pattern in _ERROR_PATTERNS:
            found = pattern.fullmatch(text)
            if found:
                values = found.groupdict()
                if "message" in values:
                    values["message"] = self.error(values["message"])
                return self(key, **values)
        return text

    def metric(self, key: str) -> str:
        """The human label of a history column (the column name itself if unknown)."""
        return self(f"metric.{key}") if self.has(f"metric.{key}") else key

    def column(self, key: str) -> str:
        """The short name of a history column in this language (in English, the column's
        own name; the column name itself if unknown)."""
        if key.startswith("val_"):
            return self("report.column_val", name=self.column(key.removeprefix("val_")))
        return self(f"report.column_{key}") if self.has(f"report.column_{key}") else key


def messages(lang: str | Messages = DEFAULT_LANG) -> Messages:
    """The :class:`Messages` of ``lang`` (``lang`` itself if it is one already)."""
    return lang if isinstance(lang, Messages) else Messages(lang)
