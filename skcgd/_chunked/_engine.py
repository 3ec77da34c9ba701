"""Row chunks of a Dask array and its per-row companions, and passes over them.

:class:`RowChunks` holds X (a Dask array chunked along rows only; dense blocks or scipy
sparse blocks) and any number of row-aligned 1-D companions (labels, sample weights,
groups), as one list of Dask tasks per chunk. A pass is :meth:`RowChunks.map_reduce`: a
function of one chunk, run where the chunk lives, and a pairwise tree of ``combine`` over
the results, computed with whatever scheduler is active (the threaded one, or a
``distributed.Client``). Only the root of the tree comes back to the caller; its size is
counted (``bytes_gathered``), as are the passes.

Row-level results that later passes need (losses at the current coefficients) are kept as
persisted per-chunk objects (:meth:`RowChunks.map_persist`): on a cluster they stay in the
workers' memory, with the threaded scheduler in this process, never gathered into one array.
"""

import copy
import itertools
import numbers
import os

import numpy as np
import scipy.sparse as sp

from skcgd._chunked import is_dask_collection, require_dask

__all__ = ["RowChunks", "add", "as_row_array", "map_rows", "result_nbytes"]


def add(a, b):
    """Sum two pass results: numbers, arrays, or tuples/lists/dicts of them, elementwise."""
    if isinstance(a, tuple) and hasattr(a, "_fields"):  # a NamedTuple takes its fields apart
        return type(a)(*(add(u, v) for u, v in zip(a, b, strict=True)))
    if isinstance(a, tuple | list):
        return type(a)(add(u, v) for u, v in zip(a, b, strict=True))
    if isinstance(a, dict):
        return {k: add(a[k], b[k]) for k in a}
    if a is None:
        return None
    return a + b


def result_nbytes(obj):
    """Bytes of the numbers in a pass result (what travels back to the caller)."""
    if isinstance(obj, tuple | list):
        return sum(result_nbytes(v) for v in obj)
    if isinstance(obj, dict):
        return sum(result_nbytes(v) for v in obj.values())
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if sp.issparse(obj):
        return int(obj.data.nbytes + getattr(obj, "indices", np.zeros(0)).nbytes)
    if isinstance(obj, numbers.Number | np.generic):
        return 8
    return 0


def as_row_array(obj, name):
    """A Dask array from a Dask array, dataframe or series (chunk sizes computed)."""
    require_dask()
    import dask.array as da

    if isinstance(obj, da.Array):
        arr = obj
    elif hasattr(obj, "to_dask_array"):  # dask dataframe or series
        arr = obj.to_dask_array(lengths=True)
    else:
        raise TypeError(
            f"{name} is a Dask collection of type {type(obj).__name__}; skcgd takes Dask "
            "arrays, dataframes and series."
        )
    if any(np.isnan(c) for c in arr.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes (NaN row counts, e.g. after boolean indexing): "
            f"call {name}.compute_chunk_sizes() (or to_dask_array(lengths=True) on a "
            "dataframe) first."
        )
    return arr


# Task keys: a name per pass and a position. Dask's default for impure calls is a uuid4
# per task, which costs a system call for random bytes (slow on some VMs, ~0.6 ms here).
_PASS_IDS = itertools.count()
_PREFIX = f"skcgd-{os.getpid()}-{id(_PASS_IDS):x}"


def _new_pass_name(what):
    return f"{_PREFIX}-{what}-{next(_PASS_IDS)}"


def _combine_all(combine, *parts):
    out = parts[0]
    for part in parts[1:]:
        out = combine(out, part)
    return out


def _tree(items, combine, name, fan_in=8):
    """A tree of ``combine`` over Dask delayed ``items``, ``fan_in`` at a time."""
    from dask import delayed

    level = list(items)
    depth = 0
    while len(level) > 1:
        level = [
            delayed(_combine_all, pure=False)(
                combine, *level[i : i + fan_in], dask_key_name=f"{name}-tree{depth}-{i}"
            )
            for i in range(0, len(level), fan_in)
        ]
        depth += 1
    return level[0]


def _call(fn, chunk, state, args):
    return fn(chunk, state, *args)


class _Static:
    """A task argument Dask must pass as it is (not search for keys or tasks in it)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return (_Static, (self.value,))


def _run_chunk(fn, meta, state, *values):
    """One chunk's task in a raw graph: ``values`` are the chunk's blocks, then the values
    of the arguments that were Dask objects (see :meth:`RowChunks._raw_graph`)."""
    names, rows, start, args, holes = meta.value
    chunk = dict(zip(names, values[: len(names)]))
    chunk["rows"], chunk["start"] = rows, start
    args = list(args)
    for position, value in zip(holes, values[len(names) :]):
        args[position] = value
    return fn(chunk, state, *args)


def _graph_of(obj):
    graph = obj.__dask_graph__()
    return graph if isinstance(graph, dict) else dict(graph)


class RowChunks:
    """X and its row-aligned companions as per-chunk Dask tasks.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows (column chunks are merged, which reads no data).
    **rows : dask.array.Array, ndarray or None
        Row-aligned 1-D companions (``y``, ``sample_weight``, ...): Dask arrays are
        re-chunked to X's row chunks, in-memory arrays split into them; None is passed on
        as None to every chunk.

    Attributes
    ----------
    n_chunks, n_samples, n_features : int
    passes : int
        Passes over X run so far (:meth:`map_reduce` and :meth:`map_persist` calls).
    reductions : int
        Reductions of row-level state only (``map_reduce(..., reads_x=False)``).
    bytes_gathered : int
        Bytes of the results that came back to this process, over all passes.
    max_bytes_per_pass : int
        The largest result of one pass.
    """

    def __init__(self, X, **rows):
        require_dask()
        import dask.array as da

        X = as_row_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array, got shape {X.shape}.")
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        self.X = X
        self.row_chunks = tuple(int(c) for c in X.chunks[0])
        # the global index of each chunk's first row (chunk["start"]): row-indexed rules,
        # such as contiguous folds, are then decided inside the chunk
        self.row_starts = tuple(int(s) for s in np.cumsum((0,) + self.row_chunks[:-1]))
        self.n_samples = int(sum(self.row_chunks))
        self.n_features = int(X.shape[1])
        self.n_chunks = len(self.row_chunks)
        self._blocks = {"X": list(X.to_delayed()[:, 0])}
        self._keys = {"X": [row[0] for row in X.__dask_keys__()]}
        self._base = _graph_of(X)
        for name, value in rows.items():
            self._blocks[name] = self._split(value, name, da)
        self.passes = 0
        self.reductions = 0
        self.bytes_gathered = 0
        self.max_bytes_per_pass = 0

    def _split(self, value, name, da):
        if value is None:
            self._keys[name] = [None] * self.n_chunks
            return [None] * self.n_chunks
        if is_dask_collection(value):
            arr = as_row_array(value, name)
        else:
            arr = np.asarray(value)
            if arr.shape[:1] != (self.n_samples,):
                raise ValueError(
                    f"{name} has shape {arr.shape}; expected {self.n_samples} rows, one per "
                    "row of X."
                )
            arr = da.from_array(arr, chunks=(self.row_chunks,) + arr.shape[1:])
        if arr.shape[0] != self.n_samples:
            raise ValueError(
                f"{name} has {arr.shape[0]} rows but X has {self.n_samples}: they must be "
                "row-aligned."
            )
        if arr.ndim == 1:
            arr = arr.rechunk((self.row_chunks,))
            self._keys[name] = list(arr.__dask_keys__())
        else:
            arr = arr.rechunk((self.row_chunks,) + tuple((s,) for s in arr.shape[1:]))
            keys = arr.__dask_keys__()
            self._keys[name] = [row[0] if isinstance(row, list) else row for row in keys]
            while isinstance(self._keys[name][0], list):
                self._keys[name] = [k[0] for k in self._keys[name]]
        self._base.update(_graph_of(arr))
        if arr.ndim == 1:
            return list(arr.to_delayed())
        return list(arr.to_delayed().reshape(self.n_chunks, -1)[:, 0])

    def _counter(self):
        return getattr(self, "_parent", self)

    def _tasks(self, fn, args, state, name, with_x=True):
        from dask import delayed

        # a task that reads only row-level state and the 1-D companions must not depend on
        # X's chunk: out of core that would read it from disk again
        names = [k for k in self._blocks if with_x or k != "X"]
        out = []
        for i in range(self.n_chunks):
            chunk = {name: self._blocks[name][i] for name in names}
            chunk["rows"] = self.row_chunks[i]
            chunk["start"] = self.row_starts[i]
            s = None if state is None else state[i]
            out.append(delayed(_call, pure=False)(fn, chunk, s, args, dask_key_name=f"{name}-{i}"))
        return out

    def _raw_graph(self, fn, args, state, name, with_x=True):
        """The tasks of one pass as a plain graph: ``(graph, keys of the chunks' tasks)``.

        Built directly from the keys of X, the companions and the persisted state, so that a
        pass costs a few microseconds per chunk on this side (Dask's delayed calls inspect
        every argument and merge one graph per chunk, milliseconds per pass)."""
        dsk = dict(self._base)
        names = [k for k in self._keys if with_x or k != "X"]
        args = list(args)
        holes, extra = [], []
        for position, arg in enumerate(args):
            if is_dask_collection(arg):  # a shared object wrapped in dask.delayed
                if not hasattr(arg, "key"):
                    raise TypeError("A pass takes Dask delayed objects as arguments, not arrays.")
                dsk.update(_graph_of(arg))
                holes.append(position)
                extra.append(arg.key)
                args[position] = None
        keys = []
        for i in range(self.n_chunks):
            meta = _Static(
                (names, self.row_chunks[i], self.row_starts[i], tuple(args), tuple(holes))
            )
            s = None
            if state is not None:
                s = state[i].key
                dsk.update(_graph_of(state[i]))
            key = (name, i)
            dsk[key] = (_run_chunk, fn, meta, s, *[self._keys[k][i] for k in names], *extra)
            keys.append(key)
        return dsk, keys

    @staticmethod
    def _raw_tree(dsk, keys, combine, name, fan_in=8):
        level, depth = list(keys), 0
        while len(level) > 1:
            nxt = []
            for i in range(0, len(level), fan_in):
                key = (f"{name}-tree{depth}", i)
                dsk[key] = (_combine_all, combine, *level[i : i + fan_in])
                nxt.append(key)
            level, depth = nxt, depth + 1
        return level[0]

    def _count(self, result, reads_x):
        counter = self._counter()
        size = result_nbytes(result)
        if reads_x:
            counter.passes += 1
        else:
            counter.reductions += 1
        counter.bytes_gathered += size
        counter.max_bytes_per_pass = max(counter.max_bytes_per_pass, size)

    def map_reduce(self, fn, *args, state=None, combine=add, reads_x=True):
        """``combine`` over ``fn(chunk, state_i, *args)`` of every chunk: one pass.

        ``chunk`` is a dict of the chunk's blocks (``"X"`` and the companions), its row
        count (``"rows"``) and the global index of its first row (``"start"``); ``state`` a
        list of per-chunk persisted objects (or None).
        ``reads_x=False`` declares that ``fn`` reads only ``state`` (counted apart: such a
        reduction reads a few numbers per row, not the data).
        """
        import dask
        from dask.delayed import Delayed

        name = _new_pass_name(getattr(fn, "__name__", "pass"))
        dsk, keys = self._raw_graph(fn, args, state, name, with_x=reads_x)
        root = self._raw_tree(dsk, keys, combine, name)
        (result,) = dask.compute(Delayed(root, dsk))
        self._count(result, reads_x)
        return result

    def map_persist(self, fn, *args, state=None):
        """``fn(chunk, state_i, *args)`` for every chunk, kept where it was computed.

        Returns the list of persisted per-chunk results (Dask delayed objects), to pass as
        ``state`` to later passes. Counts as a pass (nothing is gathered).
        """
        import dask

        tasks = self._tasks(fn, args, state, _new_pass_name(getattr(fn, "__name__", "rows")))
        persisted = dask.persist(*tasks)
        self._counter().passes += 1
        return list(persisted)

    def map_persist_reduce(self, fn, args, reduce_fn, reduce_args, combine=add):
        """:meth:`map_persist` then :meth:`map_reduce` of ``reduce_fn`` over its results,
        submitted together (one round trip to the scheduler instead of two).

        Returns ``(persisted per-chunk results, reduced value)``; counts one pass over X.
        """
        import dask
        from dask.delayed import Delayed

        name = _new_pass_name(getattr(fn, "__name__", "rows"))
        dsk, keys = self._raw_graph(fn, args, None, name)
        rname = name + "-reduce"
        # the reduction's tasks read the fresh per-chunk results, not X
        rdsk, rkeys = self._raw_graph(reduce_fn, reduce_args, None, rname, with_x=False)
        for i, key in enumerate(rkeys):
            task = rdsk[key]
            rdsk[key] = task[:3] + (keys[i],) + task[4:]
        dsk.update(rdsk)
        root = self._raw_tree(dsk, rkeys, combine, rname)
        *persisted, reduced = dask.persist(
            *[Delayed(k, dsk) for k in keys], Delayed(root, dsk), optimize_graph=False
        )
        (result,) = dask.compute(reduced)
        self._count(result, True)
        return list(persisted), result

    def lazy_rows(self, fn, *args, dtype=np.float64, n_outputs=None):
        """``fn(chunk, None, *args)`` of every chunk as one lazy Dask array (nothing runs).

        ``fn`` returns the chunk's rows: shape ``(rows,)``, or ``(rows, n_outputs)``.
        """
        import dask.array as da

        parts = []
        name = _new_pass_name(getattr(fn, "__name__", "rows"))
        for task, rows in zip(self._tasks(fn, args, None, name), self.row_chunks):
            shape = (rows,) if n_outputs is None else (rows, n_outputs)
            parts.append(da.from_delayed(task, shape=shape, dtype=dtype))
        return da.concatenate(parts) if len(parts) > 1 else parts[0]

    def stats(self):
        """``{"passes", "reductions", "bytes_gathered", "max_bytes_per_pass"}`` so far."""
        c = self._counter()
        return {
            "passes": c.passes,
            "reductions": c.reductions,
            "bytes_gathered": c.bytes_gathered,
            "max_bytes_per_pass": c.max_bytes_per_pass,
        }


def map_rows(X, fn, *, n_outputs=None, dtype=np.float64):
    """``fn`` applied to every row chunk of the Dask array ``X``, lazily.

    The result is a Dask array of shape ``(n_samples,)`` (``n_outputs=None``) or
    ``(n_samples, n_outputs)``, with X's row chunks; nothing is computed.
    """
    X = as_row_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {X.shape}.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if n_outputs is None:
        return X.map_blocks(fn, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(
        fn,
        chunks=(X.chunks[0], (n_outputs,)),
        dtype=dtype,
        meta=np.empty((0, 0), dtype=dtype),
    )


def feature_info(X):
    """``(X as a Dask array, its column names or None)`` for a Dask array or dataframe.

    Column names become ``feature_names_in_`` as scikit-learn records them (only when they
    are all strings).
    """
    names = None
    columns = getattr(X, "columns", None)
    if columns is not None:
        cols = list(columns)
        if cols and all(isinstance(c, str) for c in cols):
            names = np.asarray(cols, dtype=object)
    return as_row_array(X, "X"), names


def set_feature_info(estimator, n_features, names):
    """Record ``n_features_in_`` (and ``feature_names_in_`` or its absence) after a fit."""
    estimator.n_features_in_ = int(n_features)
    if names is not None:
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def check_predict_input(estimator, X):
    """The Dask array of ``X`` for a fitted ``estimator``'s prediction methods.

    Checks the width against ``n_features_in_`` and, for a dataframe, the column names
    against ``feature_names_in_`` (as scikit-learn's ``validate_data(reset=False)`` does).
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    arr, names = feature_info(X)
    fitted = getattr(estimator, "feature_names_in_", None)
    if names is not None and fitted is not None and list(names) != list(fitted):
        raise ValueError(
            "The feature names should match those that were passed during fit: got "
            f"{list(names)[:5]}, fitted with {list(fitted)[:5]}."
        )
    if arr.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {arr.shape}.")
    if arr.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {arr.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return arr


def _apply(block, estimator, method, width, dtype):
    if block.shape[0] == 0:  # scikit-learn's checks refuse an empty X; its output is empty
        return np.empty((0,) if width is None else (0, width), dtype=dtype)
    return getattr(estimator, method)(block)


def lazy_method(estimator, method, X):
    """``estimator.<method>(X)`` for a Dask ``X``: a lazy Dask array, chunk by chunk.

    The output's shape and dtype come from the method on one row of zeros; the fitted
    estimator travels with the tasks (its coefficients are small).
    """
    arr = check_predict_input(estimator, X)
    if len(arr.chunks[1]) > 1:
        arr = arr.rechunk({1: -1})
    if hasattr(estimator, "feature_names_in_"):
        # the names were checked above; the chunks are plain arrays, for which scikit-learn
        # would warn that the names are missing
        estimator = copy.copy(estimator)
        del estimator.feature_names_in_
    probe = getattr(estimator, method)(np.zeros((1, arr.shape[1]), dtype=arr.dtype))
    probe = np.asarray(probe)
    if probe.ndim == 1:
        return arr.map_blocks(
            _apply, estimator, method, None, probe.dtype, drop_axis=1, dtype=probe.dtype,
            meta=np.empty((0,), dtype=probe.dtype),
        )  # fmt: skip
    width = probe.shape[1]
    return arr.map_blocks(
        _apply, estimator, method, width, probe.dtype, chunks=(arr.chunks[0], (width,)),
        dtype=probe.dtype, meta=np.empty((0, 0), dtype=probe.dtype),
    )  # fmt: skip
