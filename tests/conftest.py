import os

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    # One BLAS thread: on small shared machines (CI has 2 cores) two OpenBLAS threads in
    # level-3 calls wait on each other and run 5-20x slower than one (benchmarks/README.md).
    from threadpoolctl import threadpool_limits

    config._skcgd_blas_limit = threadpool_limits(limits=1, user_api="blas")
