import os

# scikit-learn's estimator checks include one that runs with array API dispatch on,
# which needs SciPy's array API support: it is read once, before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
