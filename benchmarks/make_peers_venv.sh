#!/usr/bin/env bash
# Build the benchmark peers' own virtual environments (never used by the tests).
#   benchmarks/.venv-peers : torch 2.13.0 (CPU) + cgds 0.4.5 (PyTorch CGD/ACGD)
#                            + skwdro 1.1.1 (Wasserstein DRO) + dro 0.4.3 (python-dro, cvxpy)
#   benchmarks/.venv-mrc   : MRCpy 3.0.0 with scikit-learn 1.7.2 (MRCpy's fit crashes on >= 1.8)
#   benchmarks/.venv-dask  : skcgd itself (editable, with its dask extra) + dask-ml 2025.1.0
#                            (+ dask-glm 0.4.0); no torch (bench_dask_fit.py runs in it)
# torch is installed first and pinned (also as a pip constraint for every later step): an
# unpinned torch, or a package asking for one, pulls several GB of CUDA wheels.
# dro is installed without its dependencies: its linear models need cvxpy, pandas and
# scikit-learn only, while `import dro` also imports torchvision, torchattacks, xgboost,
# lightgbm, ucimlrepo and matplotlib (deep-learning and tree models, data loaders); the runner
# benchmarks/_peer_robust.py serves empty stand-ins for those that are missing (the PyPI
# torchvision does not load against the CPU torch wheel anyway).
# Usage: bash benchmarks/make_peers_venv.sh [all|peers|mrc|dask]   (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
which="${1:-all}"
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
echo "torch==2.13.0" > "$constraints"

bare_venv() {  # bare_venv PATH: a venv with pip up to date
    python3 -m venv "$1"
    echo '*' > "$1/.gitignore"  # keep the venv out of git status
    "$1/bin/python" -m pip install --quiet --upgrade pip
}

new_venv() {  # new_venv PATH: a venv with pip up to date and the CPU torch in it
    bare_venv "$1"
    "$1/bin/python" -m pip install --quiet "torch==2.13.0"
}

if [[ "$which" == all || "$which" == peers ]]; then
    venv="$here/.venv-peers"
    new_venv "$venv"
    pip=("$venv/bin/python" -m pip install --quiet -c "$constraints")
    "${pip[@]}" "cgds==0.4.5" "numpy" "scipy"
    "${pip[@]}" "skwdro==1.1.1"
    "${pip[@]}" "scikit-learn" "pandas" "cvxpy>=1.5" "clarabel" "scs" "tqdm"
    "${pip[@]}" --no-deps "dro==0.4.3"
    "$venv/bin/python" -c "import torch, CGDs, skwdro, cvxpy, sklearn; print('peers venv ready: \
torch', torch.__version__, '| skwdro, cvxpy', cvxpy.__version__, '| scikit-learn', \
sklearn.__version__)"
fi

if [[ "$which" == all || "$which" == mrc ]]; then
    venv="$here/.venv-mrc"
    new_venv "$venv"
    pip=("$venv/bin/python" -m pip install --quiet -c "$constraints")
    "${pip[@]}" "scikit-learn==1.7.2" "MRCpy==3.0.0"
    "$venv/bin/python" -c "import MRCpy, sklearn, torch; print('MRCpy venv ready: scikit-learn', \
sklearn.__version__, '| torch', torch.__version__)"
fi

if [[ "$which" == all || "$which" == dask ]]; then
    venv="$here/.venv-dask"
    repo="$(dirname "$here")"
    bare_venv "$venv"
    pip=("$venv/bin/python" -m pip install --quiet -c "$constraints")
    # skcgd itself with its dask extra (dask, distributed), so that both sides share a cluster
    "${pip[@]}" -e "$repo[dask]"
    "${pip[@]}" "dask-ml==2025.1.0" "dask-glm==0.4.0"
    "$venv/bin/python" -c "import dask, distributed, dask_ml, dask_glm, sklearn, skcgd; \
print('dask venv ready: dask', dask.__version__, '| dask-ml', dask_ml.__version__, \
'| scikit-learn', sklearn.__version__)"
fi
