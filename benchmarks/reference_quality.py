"""The estimators' defaults against scikit-learn's reference models, on its shipped datasets.

Prints a Markdown table: the 5-fold cross-validated accuracy (R^2 for diabetes) of
``make_pipeline(StandardScaler(), NeuronClassifier())`` against the same pipeline with
``LogisticRegression()``, and of ``make_pipeline(StandardScaler(), NeuronRegressor())``
against ``LinearRegression()`` alone (a scaler does not change least squares' predictions).
Every model keeps its default parameters; "epochs" is ``n_iter_`` of a fit on all rows.
The table is in docs/estimators.md; tests/test_estimators.py asserts the margins.

    python benchmarks/reference_quality.py
"""

import time

from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from neurona import NeuronClassifier, NeuronRegressor

CASES = [
    ("breast cancer", load_breast_cancer, NeuronClassifier, LogisticRegression, 0.01),
    ("iris", load_iris, NeuronClassifier, LogisticRegression, 0.02),
    ("wine", load_wine, NeuronClassifier, LogisticRegression, 0.02),
    ("diabetes (R^2)", load_diabetes, NeuronRegressor, LinearRegression, 0.01),
]


def main() -> None:
    print("| dataset | neurona | reference | difference | allowed | epochs | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, load, Ours, Reference, allowed in CASES:
        X, y = load(return_X_y=True)
        start = time.perf_counter()
        ours = cross_val_score(make_pipeline(StandardScaler(), Ours()), X, y, cv=5).mean()
        seconds = time.perf_counter() - start
        reference = Reference() if Reference is LinearRegression else \
            make_pipeline(StandardScaler(), Reference())
        ref = cross_val_score(reference, X, y, cv=5).mean()
        epochs = make_pipeline(StandardScaler(), Ours()).fit(X, y)[-1].n_iter_
        print(f"| {name} | {ours:.4f} | {ref:.4f} ({Reference.__name__}) | "
              f"{ours - ref:+.4f} | {allowed} | {epochs} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
