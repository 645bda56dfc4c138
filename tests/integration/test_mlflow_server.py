"""The registry against a real ``mlflow server``: two homes share one tracking server.

The server runs from the full ``mlflow`` in ``.venv-mlflow`` (``make test`` installs it; the
project itself needs only ``mlflow-skinny``), with ``--serve-artifacts``, so model files go
through the server's proxied artefact store and never stay in the home that trained them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import UnavailableError
from bankml.governance.registry import ModelRegistry, sha256_dir
from tests.integration.conftest import free_port

pytestmark = pytest.mark.mlflow_server


def _model_dir(root: Path) -> Path:
    d = root / "model"
    d.mkdir(parents=True)
    (d / "model.txt").write_text("tree\nversion=v4\n")
    (d / "meta.json").write_text('{"features": ["amount"]}\n')
    return d


def test_a_second_home_loads_the_model_files_another_home_registered(
    tracking_server: str, tmp_path: Path
) -> None:
    trainer = ModelRegistry(tracking_server, tmp_path / "home-a")
    replica = ModelRegistry(tracking_server, tmp_path / "home-b")
    model_dir = _model_dir(tmp_path / "train")
    info = trainer.register(
        "shared", model_dir, params={"lr": 0.1}, metrics={"auc": 0.9}, tags={"who": "a"}
    )

    fetched = replica.download("shared", info.version)

    assert sha256_dir(fetched) == sha256_dir(model_dir) == replica.artifact_hash("shared", 1)
    assert (fetched / "model.txt").read_text() == "tree\nversion=v4\n"
    # Nothing of the model was written into the training home: it went to the server.
    assert not (tmp_path / "home-a" / "mlartifacts").exists()


def test_replay_downloads_fresh_from_the_server_in_another_home(
    tracking_server: str, tmp_path: Path
) -> None:
    trainer = ModelRegistry(tracking_server, tmp_path / "home-a")
    model_dir = _model_dir(tmp_path / "train")
    info = trainer.register("fresh", model_dir, params={}, metrics={}, tags={})
    auditor = ModelRegistry(tracking_server, tmp_path / "home-c")

    out = auditor.download_fresh("fresh", info.version, tmp_path / "replay")

    assert sha256_dir(out) == auditor.artifact_hash("fresh", info.version)


def test_an_unreachable_tracking_server_is_one_clear_error_within_seconds(
    tmp_path: Path,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    registry = ModelRegistry(closed, tmp_path / "home", timeout=2, max_retries=0)

    with pytest.raises(UnavailableError, match="unreachable") as err:
        registry.versions("fraud")

    assert closed in str(err.value)
    assert "BANKML_MLFLOW_TRACKING_URI" in str(err.value)
