"""Where the rows live: one engine per module, chosen in one place (:func:`neurona.engines.choose.engine_for`).

- :mod:`~neurona.engines.memory`: NumPy arrays in memory (the Numba kernels
  are its fast path: :mod:`~neurona.engines.kernels`).
- :mod:`~neurona.engines.stream`: a data file read in record batches every epoch.
- :mod:`~neurona.engines.dask`: a Dask collection, on a Dask cluster.

Each answers the engine protocol of :mod:`neurona.core.engine`; the training
loop never asks which one it has.
"""
