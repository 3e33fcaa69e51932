"""The data: built-in datasets, data files, splits and scaling.

The names most users need are here: ``blobs`` (the post's dataset) and its
siblings, ``split`` (the post's 70/30 split), ``read_data`` (a file into
memory). The modules: :mod:`~neurona.data.datasets`,
:mod:`~neurona.data.split`, :mod:`~neurona.data.table` (a file in memory),
:mod:`~neurona.data.scaling`.
"""

from .datasets import (BLOBS_DEFAULTS, DATASETS, GENERATORS, REGRESSION_DATASETS, blobs,
                       circles, dataset_spec, gaussians, linear, make_dataset, moons, plane, xor)
from .split import SPLIT_DEFAULTS, Split, check_test_size, row_uniform, split, split_rows
from .table import Dataset, check_constant, parse_names, read_data, resolve_columns

__all__ = [
    "BLOBS_DEFAULTS", "DATASETS", "Dataset", "GENERATORS", "REGRESSION_DATASETS", "SPLIT_DEFAULTS", "Split", "blobs",
    "check_constant", "check_test_size", "circles", "dataset_spec", "gaussians", "linear", "make_dataset",
    "moons", "parse_names", "plane", "read_data", "resolve_columns", "row_uniform", "split",
    "split_rows", "xor",
]
