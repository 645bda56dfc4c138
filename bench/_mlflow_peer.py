"""Save a LightGBM booster as an MLflow model, for bench/scoring.py's peer.

Runs inside the MLflow virtualenv (full ``mlflow`` with ``lightgbm``; ``make mlflow-venv``),
never in bankml's: it writes the MLflow model directory (MLmodel, the booster, its
requirements) that ``mlflow models serve -m DIR`` serves.

usage: _mlflow_peer.py BOOSTER.txt OUT_DIR
"""

import sys

import lightgbm as lgb
import mlflow.lightgbm

booster = lgb.Booster(model_file=sys.argv[1])
# Explicit requirements: inferring them imports and probes packages for seconds, offline.
mlflow.lightgbm.save_model(
    booster, sys.argv[2], pip_requirements=[f"lightgbm=={lgb.__version__}", "pandas"]
)
print(mlflow.__version__)
