"""Every string a person reads in a figure, the HTML report or the command's messages.

One catalogue per language, with the same keys and the same ``{placeholders}``
(a test checks both). English is the default; Spanish serves the readers of
the tutorial post neurona reproduces. Metric and column names that are
identifiers (``loss``, ``sse``, ``val_accuracy``...) are not translated where
they name a file's column; their human labels are.

>>> t = messages("es")
>>> t("fig.class", k=1)
'clase 1'
"""

from __future__ import annotations

from ..errors import NeuronaError

LANGS = ("en", "es")
DEFAULT_LANG = "en"

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        # figures: the post's four
        "fig.dataset": "Dataset",
        "fig.test_truth": "Test set: truth",
        "fig.test_predictions": "Test set: predictions",
        "fig.loss_title": "Training Loss",
        "fig.epoch": "Epoch #",
        "fig.loss": "Loss",
        "fig.class": "class {k}",
        # figures: decision boundary
        "fig.boundary": "Decision boundary",
        "fig.held_at_mean": "{names} held at their mean",
        "fig.others_held_at_mean": "the other {n} features held at their mean",
        "fig.proba": "P(class 1)",
        "fig.output": "neuron output",
        "fig.threshold": "{value} = {t:g} (threshold)",
        "fig.train": "train",
        "fig.test": "test",
        "fig.misclassified": "misclassified ({n})",
        # figures: learning curves, weights, test-set diagnostics
        "fig.learning_curves": "Learning curves",
        "fig.validation": "validation",
        "metric.loss": "objective (training loss)",
        "metric.sse": "summed squared error (the post's loss)",
        "metric.accuracy": "accuracy",
        "metric.learning_rate": "learning rate",
        "metric.grad_norm": "gradient norm",
        "fig.weights": "Weights over the epochs",
        "fig.weight_value": "value",
        "fig.bias": "bias b",
        "fig.confusion": "Confusion matrix (test set)",
        "fig.predicted_label": "predicted class",
        "fig.true_label": "true class",
        "fig.roc": "ROC curve (test set)",
        "fig.fpr": "false positive rate",
        "fig.tpr": "true positive rate",
        "fig.auc": "neuron (AUC = {auc:.3f})",
        "fig.chance": "chance",
        "fig.roc_one_class": "The test set holds one class only:\nno ROC curve.",
        # figures: a regression
        "fig.target": "target y",
        "fig.scaled_target": "(of the standardised target)",
        "fig.target_named": "target {name}",
        "fig.fit": "The neuron's fit",
        "fig.fit_line": "prediction",
        "fig.prediction_and_target": "prediction ŷ (field) and {target} (points)",
        "fig.predicted_vs_actual": "Predicted against actual (test set)",
        "fig.actual": "actual {target}",
        "fig.predicted": "predicted {target}",
        "fig.test_r2": "test (R² = {r2})",
        "fig.diagonal": "y = x (exact prediction)",
        "fig.residuals": "Residuals against predictions (test set)",
        "fig.residual": "residual (prediction − actual)",
        "fig.zero_residual": "zero residual",
        "fig.residual_distribution": "Distribution of the residuals (test set)",
        "fig.count": "rows",
        "fig.mean_std": "{n} rows\nmean = {mean:.3g}\nstd = {std:.3g}",
        "fig.normal_density": "normal, same mean and std",
        "fig.left_out": "{n} rows left out: their prediction is too large to draw",
        "fig.fit_left_out": "left blank where the prediction is too large to draw",
        "metric.r2": "R² (coefficient of determination)",
        "metric.mae": "mean absolute error",
        "fig.animation_title": "after {epoch} of {n} epochs",
        # the HTML report
        "report.title": "neurona run report",
        "report.subtitle": "Run {name}, written {created} by neurona {version}.",
        "report.offline": "This page is self-contained: every figure is inside it and it "
                          "makes no network request.",
        "report.contents": "Contents",
        "report.summary": "Summary",
        "report.configuration": "Configuration",
        "report.setting": "setting",
        "report.value": "value",
        "report.dataset": "Dataset",
        "report.samples": "samples",
        "report.features": "features",
        "report.train_samples": "training samples",
        "report.test_samples": "test samples",
        "report.class_counts": "class 0 / class 1 ({part})",
        "report.feature": "feature",
        "report.mean": "mean",
        "report.std": "std",
        "report.min": "min",
        "report.max": "max",
        "report.feature_stats": "Features of the training set",
        "report.metrics": "Metrics",
        "report.metric": "metric",
        "report.test_accuracy": "test accuracy",
        "report.roc_auc": "test ROC AUC",
        "report.final": "last epoch: {name}",
        "report.epochs_run": "epochs run",
        "report.classification_report": "Classification report (test set)",
        "report.class": "class",
        "report.precision": "precision",
        "report.recall": "recall",
        "report.f1": "f1-score",
        "report.support": "support",
        "report.accuracy_row": "accuracy",
        "report.macro_avg": "macro avg",
        "report.weighted_avg": "weighted avg",
        "report.regression_scores": "Regression scores (test set)",
        "report.test_rows": "test rows",
        "report.score_r2": "R² (coefficient of determination)",
        "report.score_mae": "MAE (mean absolute error)",
        "report.score_rmse": "RMSE (root mean squared error)",
        "report.score_explained_variance": "explained variance",
        "report.no_test_rows": "No test rows (every row was trained on), so no test scores.",
        "report.target": "target",
        "report.target_named": "target {name}",
        "report.task": "task",
        "report.task_regress": "regression",
        "report.target_scaling": "target scaling",
        "report.model": "Model",
        "report.parameter": "parameter",
        "report.activation": "activation",
        "report.loss_name": "loss",
        "report.threshold": "threshold",
        "report.weight": "weight {name}",
        "report.category_column": "{name}: one-hot, {n} categories",
        "report.missing_rule": "missing values",
        "report.unknown_rule": "unknown categories",
        "report.hash_column": "{name}: hashed into {n} features",
        "report.bias": "bias",
        "report.initial": "initial",
        "report.final_value": "final",
        "report.figures": "Figures",
        "report.animation": "Training animation",
        "report.animation_caption": "The decision boundary and the loss, epoch by epoch "
                                    "({frames} frames).",
        "report.animation_caption_regress": "The neuron's fit and the loss, epoch by epoch "
                                            "({frames} frames).",
        "report.no_trajectory": "This run did not record its weights per epoch (no "
                                "weights.csv), so there is no weight trajectory and no "
                                "animation.",
        "report.history": "History, per epoch",
        "report.history_all": "{n} epochs, one row each (the values of each epoch's forward "
                              "pass, before its update).",
        "report.history_thinned": "{shown} of {n} epochs shown (one in {step}, and the "
                                  "last); history.csv holds them all.",
        "caption.data": "The dataset, coloured by class (the post's first figure).",
        "caption.test_truth": "The test set with its true classes.",
        "caption.test_predictions": "The test set with the neuron's predicted classes.",
        "caption.loss": "The loss per epoch (the post's last figure).",
        "caption.decision_boundary": "The neuron's output over the plane, its threshold "
                                     "contour, the training and test points, and the "
                                     "misclassified ones circled.",
        "caption.learning_curves": "Every metric the history recorded, per epoch.",
        "caption.weights": "Each weight and the bias at the start of every epoch.",
        "caption.confusion_matrix": "Counts of true against predicted classes on the test set.",
        "caption.roc_curve": "True against false positive rate as the threshold moves.",
        "caption.data_regress": "The dataset, each point coloured by its target (with one "
                                "feature, the points against their target).",
        "caption.fit": "The neuron's prediction over the training and test points: the "
                       "fitted line, or the prediction as a colour field under the points "
                       "coloured by their target on the same scale.",
        "caption.loss_regress": "The loss per epoch: the objective and the summed squared "
                                "error over the training rows.",
        "caption.predicted_vs_actual": "Each test row's prediction against its actual value; "
                                       "on the diagonal the prediction is exact.",
        "caption.residuals": "Each test row's residual (prediction − actual) against its "
                             "prediction; a fit that missed nothing leaves an even band "
                             "around zero.",
        "caption.residual_distribution": "How the test residuals are spread, with their mean "
                                         "and standard deviation, beside a normal curve.",
        # the command
        "cli.run_written": "Run written to {path}",
        "cli.report_written": "Report written to {path}",
        "cli.early_stopping": "Early stopping after epoch {epoch}: {monitor} did not improve "
                              "for {patience} epochs{kept}.",
        "cli.kept_best": "; kept the weights of epoch {epoch}",
        "cli.interrupted_after": "neurona train: interrupted after epoch {epoch}; the run so "
                                 "far is in {path}",
        "cli.interrupted_at_epoch": "neurona train: interrupted at epoch {epoch}; the run so "
                                    "far is in {path}; continue it with: neurona train "
                                    "--resume {path}",
        "cli.interrupted_at_batch": "neurona train: interrupted at epoch {epoch}, batch {batch}; "
                                    "the run so far is in {path}; continue it with: neurona "
                                    "train --resume {path}",
        "cli.interrupted_after_training": "neurona train: interrupted after training; the run "
                                          "is complete in {path}",
        "cli.interrupted_figures": "neurona train: interrupted after training; the run is "
                                   "complete in {path} but for its figures; draw them with: "
                                   "neurona report {path}",
        "cli.figures_interrupted": "neurona train: the figures were not drawn; draw them with: "
                                   "neurona report {path}",
        "cli.leftovers": "neurona train: removed what killed runs had left: {paths}",
        "cli.leftover_restored": "{path} was put back (replacing it was cut short)",
        "cli.leftover_training": "{path} was killed while training, after its checkpoint of "
                                 "epoch {epoch}; continue it with: neurona train --resume "
                                 "{path}",
        "cli.leftover_figures": "{path} was killed while its figures were drawn; draw them "
                                "with: neurona report {path}",
    },
    "es": {
        "fig.dataset": "Conjunto de datos",
        "fig.test_truth": "Conjunto de test: realidad",
        "fig.test_predictions": "Conjunto de test: predicciones",
        "fig.loss_title": "Pérdida en entrenamiento",
        "fig.epoch": "Época",
        "fig.loss": "Pérdida",
        "fig.class": "clase {k}",
        "fig.boundary": "Frontera de decisión",
        "fig.held_at_mean": "{names} fijadas en su media",
        "fig.others_held_at_mean": "las otras {n} variables fijadas en su media",
        "fig.proba": "P(clase 1)",
        "fig.output": "salida de la neurona",
        "fig.threshold": "{value} = {t:g} (umbral)",
        "fig.train": "entrenamiento",
        "fig.test": "test",
        "fig.misclassified": "mal clasificados ({n})",
        "fig.learning_curves": "Curvas de aprendizaje",
        "fig.validation": "validación",
        "metric.loss": "objetivo (pérdida de entrenamiento)",
        "metric.sse": "suma de errores al cuadrado (la pérdida del post)",
        "metric.accuracy": "exactitud",
        "metric.learning_rate": "tasa de aprendizaje",
        "metric.grad_norm": "norma del gradiente",
        "fig.weights": "Pesos a lo largo de las épocas",
        "fig.weight_value": "valor",
        "fig.bias": "sesgo b",
        "fig.confusion": "Matriz de confusión (conjunto de test)",
        "fig.predicted_label": "clase predicha",
        "fig.true_label": "clase real",
        "fig.roc": "Curva ROC (conjunto de test)",
        "fig.fpr": "tasa de falsos positivos",
        "fig.tpr": "tasa de verdaderos positivos",
        "fig.auc": "neurona (AUC = {auc:.3f})",
        "fig.chance": "azar",
        "fig.roc_one_class": "El conjunto de test tiene una sola clase:\nno hay curva ROC.",
        "fig.target": "objetivo y",
        "fig.scaled_target": "(del objetivo estandarizado)",
        "fig.target_named": "objetivo {name}",
        "fig.fit": "El ajuste de la neurona",
        "fig.fit_line": "predicción",
        "fig.prediction_and_target": "predicción ŷ (campo) y {target} (puntos)",
        "fig.predicted_vs_actual": "Predicción frente a valor real (conjunto de test)",
        "fig.actual": "{target} real",
        "fig.predicted": "{target} predicho",
        "fig.test_r2": "test (R² = {r2})",
        "fig.diagonal": "y = x (predicción exacta)",
        "fig.residuals": "Residuos frente a predicciones (conjunto de test)",
        "fig.residual": "residuo (predicción − real)",
        "fig.zero_residual": "residuo cero",
        "fig.residual_distribution": "Distribución de los residuos (conjunto de test)",
        "fig.count": "filas",
        "fig.mean_std": "{n} filas\nmedia = {mean:.3g}\ndesv. típica = {std:.3g}",
        "fig.normal_density": "normal de igual media y desv. típica",
        "fig.left_out": "{n} filas omitidas: su predicción es demasiado grande para dibujarla",
        "fig.fit_left_out": "en blanco donde la predicción es demasiado grande para dibujarla",
        "metric.r2": "R² (coeficiente de determinación)",
        "metric.mae": "error absoluto medio",
        "fig.animation_title": "tras {epoch} de {n} épocas",
        "report.title": "Informe del experimento de neurona",
        "report.subtitle": "Experimento {name}, escrito el {created} por neurona {version}.",
        "report.offline": "Esta página es autónoma: lleva dentro todas las figuras y no hace "
                          "ninguna petición de red.",
        "report.contents": "Contenido",
        "report.summary": "Resumen",
        "report.configuration": "Configuración",
        "report.setting": "ajuste",
        "report.value": "valor",
        "report.dataset": "Datos",
        "report.samples": "muestras",
        "report.features": "variables",
        "report.train_samples": "muestras de entrenamiento",
        "report.test_samples": "muestras de test",
        "report.class_counts": "clase 0 / clase 1 ({part})",
        "report.feature": "variable",
        "report.mean": "media",
        "report.std": "desv. típica",
        "report.min": "mín",
        "report.max": "máx",
        "report.feature_stats": "Variables del conjunto de entrenamiento",
        "report.metrics": "Métricas",
        "report.metric": "métrica",
        "report.test_accuracy": "exactitud en test",
        "report.roc_auc": "ROC AUC en test",
        "report.final": "última época: {name}",
        "report.epochs_run": "épocas ejecutadas",
        "report.classification_report": "Informe de clasificación (conjunto de test)",
        "report.class": "clase",
        "report.precision": "precisión",
        "report.recall": "exhaustividad",
        "report.f1": "valor F1",
        "report.support": "soporte",
        "report.accuracy_row": "exactitud",
        "report.macro_avg": "media macro",
        "report.weighted_avg": "media ponderada",
        "report.regression_scores": "Puntuaciones de la regresión (conjunto de test)",
        "report.test_rows": "filas de test",
        "report.score_r2": "R² (coeficiente de determinación)",
        "report.score_mae": "MAE (error absoluto medio)",
        "report.score_rmse": "RMSE (raíz del error cuadrático medio)",
        "report.score_explained_variance": "varianza explicada",
        "report.no_test_rows": "No hay filas de test (se entrenó con todas), así que no hay "
                               "puntuaciones de test.",
        "report.target": "objetivo",
        "report.target_named": "objetivo {name}",
        "report.task": "tarea",
        "report.task_regress": "regresión",
        "report.target_scaling": "escalado del objetivo",
        "report.model": "Modelo",
        "report.parameter": "parámetro",
        "report.activation": "activación",
        "report.loss_name": "pérdida",
        "report.threshold": "umbral",
        "report.weight": "peso {name}",
        "report.category_column": "{name}: one-hot, {n} categorías",
        "report.missing_rule": "valores que faltan",
        "report.unknown_rule": "categorías desconocidas",
        "report.hash_column": "{name}: hash en {n} variables",
        "report.bias": "sesgo",
        "report.initial": "inicial",
        "report.final_value": "final",
        "report.figures": "Figuras",
        "report.animation": "Animación del entrenamiento",
        "report.animation_caption": "La frontera de decisión y la pérdida, época a época "
                                    "({frames} fotogramas).",
        "report.animation_caption_regress": "El ajuste de la neurona y la pérdida, época a "
                                            "época ({frames} fotogramas).",
        "report.no_trajectory": "Este experimento no guardó sus pesos por época (no hay "
                                "weights.csv): no hay trayectoria de los pesos ni animación.",
        "report.history": "Historial por época",
        "report.history_all": "{n} épocas, una fila cada una (los valores de la pasada hacia "
                              "delante de cada época, antes de su actualización).",
        "report.history_thinned": "Se muestran {shown} de {n} épocas (una de cada {step}, y "
                                  "la última); history.csv las tiene todas.",
        "caption.data": "Los datos, coloreados por clase (la primera figura del post).",
        "caption.test_truth": "El conjunto de test con sus clases reales.",
        "caption.test_predictions": "El conjunto de test con las clases que predice la "
                                    "neurona.",
        "caption.loss": "La pérdida por época (la última figura del post).",
        "caption.decision_boundary": "La salida de la neurona sobre el plano, el contorno del "
                                     "umbral, los puntos de entrenamiento y de test, y los "
                                     "mal clasificados rodeados.",
        "caption.learning_curves": "Cada métrica que guardó el historial, por época.",
        "caption.weights": "Cada peso y el sesgo al empezar cada época.",
        "caption.confusion_matrix": "Recuento de clases reales frente a predichas en el "
                                    "conjunto de test.",
        "caption.roc_curve": "Tasa de verdaderos frente a falsos positivos al mover el umbral.",
        "caption.data_regress": "Los datos, cada punto coloreado según su objetivo (con una "
                                "sola variable, los puntos frente a su objetivo).",
        "caption.fit": "La predicción de la neurona sobre los puntos de entrenamiento y de "
                       "test: la recta ajustada, o la predicción como un campo de color bajo "
                       "los puntos coloreados según su objetivo en la misma escala.",
        "caption.loss_regress": "La pérdida por época: el objetivo y la suma de errores al "
                                "cuadrado sobre las filas de entrenamiento.",
        "caption.predicted_vs_actual": "La predicción de cada fila de test frente a su valor "
                                       "real; sobre la diagonal la predicción es exacta.",
        "caption.residuals": "El residuo de cada fila de test (predicción − real) frente a su "
                             "predicción; un ajuste al que no se le escapa nada deja una "
                             "banda pareja alrededor de cero.",
        "caption.residual_distribution": "Cómo se reparten los residuos de test, con su media "
                                         "y su desviación típica, junto a una curva normal.",
        "cli.run_written": "Experimento guardado en {path}",
        "cli.report_written": "Informe escrito en {path}",
        "cli.early_stopping": "Parada temprana tras la época {epoch}: {monitor} no mejoró en "
                              "{patience} épocas{kept}.",
        "cli.kept_best": "; se conservan los pesos de la época {epoch}",
        "cli.interrupted_after": "neurona train: interrumpido tras la época {epoch}; lo hecho "
                                 "hasta ahora está en {path}",
        "cli.interrupted_at_epoch": "neurona train: interrumpido en la época {epoch}; lo hecho "
                                    "hasta ahora está en {path}; para continuarlo: neurona "
                                    "train --resume {path}",
        "cli.interrupted_at_batch": "neurona train: interrumpido en la época {epoch}, lote "
                                    "{batch}; lo hecho hasta ahora está en {path}; para "
                                    "continuarlo: neurona train --resume {path}",
        "cli.interrupted_after_training": "neurona train: interrumpido tras el entrenamiento; "
                                          "el experimento está completo en {path}",
        "cli.interrupted_figures": "neurona train: interrumpido tras el entrenamiento; el "
                                   "experimento está completo en {path} salvo sus figuras; "
                                   "para dibujarlas: neurona report {path}",
        "cli.figures_interrupted": "neurona train: no se dibujaron las figuras; para "
                                   "dibujarlas: neurona report {path}",
        "cli.leftovers": "neurona train: se borró lo que dejaron experimentos interrumpidos a "
                         "la fuerza: {paths}",
        "cli.leftover_restored": "{path} se restauró (su reemplazo quedó a medias)",
        "cli.leftover_training": "{path} se detuvo a la fuerza entrenando, tras su punto de "
                                 "control de la época {epoch}; para continuarlo: neurona "
                                 "train --resume {path}",
        "cli.leftover_figures": "{path} se detuvo a la fuerza mientras se dibujaban sus "
                                "figuras; para dibujarlas: neurona report {path}",
    },
}


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

    def metric(self, key: str) -> str:
        """The human label of a history column (the column name itself if unknown)."""
        return self(f"metric.{key}") if self.has(f"metric.{key}") else key


def messages(lang: str | Messages = DEFAULT_LANG) -> Messages:
    """The :class:`Messages` of ``lang`` (``lang`` itself if it is one already)."""
    return lang if isinstance(lang, Messages) else Messages(lang)
