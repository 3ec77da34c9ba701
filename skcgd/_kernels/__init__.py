"""Numba kernels of skcgd (private).

Every ``@njit`` function of the package lives in this subpackage, compiled through
:func:`skcgd._numba.njit_kernel`. Rules (checked by ``tests/kernels/test_kernel_rules.py``):

* a kernel module imports only numpy, math and :mod:`skcgd._numba`; its jitted callees live in
  the same file, because Numba's disk cache does not notice changes in another file;
* kernels take arrays, scalars and tuples of arrays, never write into their inputs unless the
  docstring says "in place" about a work buffer they were given, and never see sklearn objects.
"""
