"""Benchmarks: ``python -m benchmarks`` (engine throughput, memory, end-to-end and large runs, see
``engines.py``) and ``python -m benchmarks.sweep_bench`` (sweeps over process pools and Dask)."""
