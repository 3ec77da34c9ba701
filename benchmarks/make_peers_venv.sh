#!/usr/bin/env bash
# Build the benchmark peers' own virtual environment (never used by the tests).
#   benchmarks/.venv-peers : torch 2.13.0 (CPU) + cgds 0.4.5 (PyTorch CGD/ACGD)
# torch is installed first and pinned: an unpinned torch (or a package asking for one) pulls
# several GB of CUDA wheels. Usage: bash benchmarks/make_peers_venv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-peers"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "torch==2.13.0"
"$venv/bin/python" -m pip install --quiet "cgds==0.4.5" "numpy" "scipy"
"$venv/bin/python" -c "import torch, CGDs; print('peers venv ready: torch', torch.__version__)"
