"""Which engine holds the data: the one place that looks at the type of the training data."""


from __future__ import annotations

from ..core.engine import Engine


def is_dask(obj) -> bool:
    """Whether ``obj`` is a Dask collection (array, DataFrame, Series)."""
    return (type(obj).__module__ or "").startswith("dask")


def engine_for(X, y=None, sample_weight=None, *, n_features: int | None = None,
               dtype: str = "float64", kernel: str = "auto", name: str = "X") -> Engine:
    """The engine for training data ``X`` (with targets ``y``): the one place that looks at its type.

    ``X`` may be an engine already (then ``y`` and ``sample_weight`` must be
    None), a Dask array or DataFrame (:class:`~neurona.engines.dask.DaskEngine`),
    a part of a :class:`~neurona.data.filestream.FileStream`
    (:class:`~neurona.engines.stream.StreamEngine`), or anything NumPy takes as
    a 2-D array (:class:`~neurona.engines.memory.MemoryEngine`).
    """
    from ..errors import NeuronaError

    if isinstance(X, Engine):
        if y is not None or sample_weight is not None:
            raise NeuronaError(f"A {type(X).__name__} holds its own y and sample_weight; "
                               f"pass y=None.")
        return X
    if is_dask(X):
        from .dask import DaskEngine

        return DaskEngine(X, y, sample_weight)
    if hasattr(X, "with_rows"):
        from .stream import StreamEngine

        if y is not None or sample_weight is not None:
            raise NeuronaError("A part of a FileStream holds its own targets; pass y=None.")
        return StreamEngine(X, kernel=kernel)
    from .memory import MemoryEngine, as_rows

    X, y = as_rows(X, y, n_features, dtype=dtype, name=name)
    return MemoryEngine(X, y, sample_weight, kernel=kernel)

