"""Sphinx configuration of the skcgd documentation.

Build with ``make -C doc html`` (runs every example, warnings are errors) or
``make -C doc html-noplot`` (examples rendered but not run).
"""

import os
import re
import warnings

# The examples fit small models: a second BLAS thread only adds synchronisation, and on a busy
# two-core machine it made scipy's L-BFGS-B (inside LogisticRegression) about 20x slower and
# one example 10x slower. One BLAS thread per process, for this build and the processes its
# examples start; set the variables yourself to override.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from threadpoolctl import threadpool_limits  # noqa: E402

import skcgd  # noqa: E402

threadpool_limits(limits=int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")

# -- project -------------------------------------------------------------------------------------
project = "skcgd"
author = "The skcgd developers"
copyright = "2025, The skcgd developers"
release = skcgd.__version__
version = release

# -- extensions ----------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/**/*.ipynb"]
root_doc = "index"
default_role = "literal"  # `x` in a docstring renders as code instead of warning

# Every reference to skcgd must resolve (nitpicky); references to other projects' objects stay
# plain text, because the build runs offline: no intersphinx inventories are fetched.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sklearn|joblib|dask|distributed|matplotlib|pandas|skops)(\..*)?"),
    (
        r"py:.*",
        r"(array-like|array_like|ndarray|sparse matrix|matrix|callable|object|"
        r"optional|default|of shape|shape|RandomState|instance|None|True|False|"
        r"estimator|Any|dtype|scalar)",
    ),
    (r"py:.*", r"(int|float|bool|str|dict|list|tuple|type|iterable|generator|function)"),
    # private modules and classes (base classes shown by :show-inheritance:, helpers named in
    # docstrings) have no page; they render as text
    (r"py:.*", r"skcgd(\.\w+)*\._\w+(\.\w+)*"),
    (r"py:.*", r"_\w+"),
    # fitted attributes that are properties (n_features_in_ of the stacking estimators, as in
    # scikit-learn's): numpydoc links them from the Attributes table, autodoc has no entry
    (r"py:obj", r"skcgd(\.\w+)+\.\w+_"),
    (
        r"py:.*",
        r"(ValueError|TypeError|FloatingPointError|UserWarning|Warning|Exception|"
        r"RuntimeError|NotImplementedError|NamedTuple|typing\..*)",
    ),
]
intersphinx_mapping = {}

# -- autodoc / autosummary / numpydoc -------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing methods (set_fit_request, ...) are generated per class
    # with docstrings that point into scikit-learn's own user guide
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


# -- sphinx-gallery ------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "doc_module": ("skcgd",),
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "backreferences_dir": "generated",
    "reference_url": {"skcgd": None},
    "filename_pattern": re.escape(os.sep) + "plot_",
    "subsection_order": [
        "../examples/games",
        "../examples/linear_model",
        "../examples/naive_bayes",
        "../examples/ensemble",
        "../examples/persistence",
        "../examples/distributed",
    ],
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "download_all_examples": False,
    "inspect_global_variables": False,
}
# an example that fails to run fails the build (sphinx-gallery raises by default)

# matplotlib in the examples: never try to open a window
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg", category=UserWarning)

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skcgd {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "install": [], "benchmarks": [], "whats_new": []}
html_show_sourcelink = False


# -- generated pages -----------------------------------------------------------------------------
# The table of input kinds (user_guide/input_kinds.rst includes it) is made at every build by
# fitting each public estimator on each input kind, so it cannot disagree with the code.
# tests/test_examples.py checks that this is the file the page includes.
INPUT_KINDS_TABLE = os.path.join("generated", "input_kinds_table.inc")


def _write_input_kinds_table(app):
    from skcgd.utils._input_kinds import write_input_kinds_rst

    write_input_kinds_rst(os.path.join(app.srcdir, INPUT_KINDS_TABLE))


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("builder-inited", _write_input_kinds_table)
