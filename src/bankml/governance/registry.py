"""Model registry on MLflow: runs, versions, lineage tags, aliases, and exact artefact download.

MLflow is the store (its own SQLite database under ``BANKML_HOME`` by default, or the bank's
tracking server via ``MLFLOW_TRACKING_URI``). bankml uploads plain files (the LightGBM model
text, a metadata JSON) rather than pickled Python objects, so a version can be loaded and
replayed without executing stored code, and its bytes hashed.

Open-source MLflow has no approval step and keeps no alias history, so governance state is
kept in bankml's own database (see ``governance.approvals``) and only *mirrored* here.
MLflow is imported lazily: the CLI and the scoring path must not pay its import cost.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import logging
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from bankml.core.errors import NotFoundError, UnavailableError

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = [
    "ModelRegistry",
    "ModelVersionInfo",
    "code_version",
    "is_remote_uri",
    "library_versions",
    "sha256_dir",
]

log = logging.getLogger(__name__)

_LIBRARIES = ("bankml", "lightgbm", "numpy", "pandas", "scikit-learn", "duckdb", "pyarrow")


@dataclass(frozen=True)
class ModelVersionInfo:
    """What the registry knows about one model version."""

    name: str
    version: int
    run_id: str
    source: str
    created_at_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "source": self.source,
            "created_at_ms": self.created_at_ms,
            "tags": self.tags,
            "aliases": list(self.aliases),
            "params": self.params,
            "metrics": self.metrics,
        }


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a model's behaviour depends on."""
    out: dict[str, str] = {}
    for lib in _LIBRARIES:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def code_version() -> str:
    """The git commit of the bankml checkout (with ``-dirty``), else the package version."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=here.parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "bankml-" + importlib.metadata.version("bankml")


def sha256_dir(path: Path) -> str:
    """One SHA-256 over every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f.relative_to(path).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


_F = TypeVar("_F", bound=Callable[..., Any])


def _server_errors(method: _F) -> _F:
    """Turn a tracking server that stopped answering mid-command into ``UnavailableError``
    (one line at the face) instead of a raw MLflow traceback."""

    @functools.wraps(method)
    def wrapper(self: ModelRegistry, *args: Any, **kwargs: Any) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return method(self, *args, **kwargs)
        except MlflowException as exc:
            if self.remote and _is_connection_failure(exc):
                raise UnavailableError(
                    f"the MLflow tracking server at {self.tracking_uri} stopped answering; "
                    "check that it is running and reachable"
                ) from None
            raise

    return cast(_F, wrapper)


def _is_connection_failure(exc: Exception) -> bool:
    text = str(exc)
    return any(s in text for s in ("Max retries exceeded", "Connection", "timed out", "503"))


def is_remote_uri(uri: str) -> bool:
    """Whether a tracking URI names a tracking server (``http(s)://``, ``databricks``)."""
    return uri.split(":", 1)[0].lower() in {"http", "https", "databricks"}


class ModelRegistry:
    """Thin, typed facade over the MLflow tracking and model registry APIs.

    With a local store (``sqlite:///`` in the home) artefacts live in ``home/mlartifacts``.
    With a tracking server, the experiment takes the server's artefact root, so files go
    through its proxied ``mlflow-artifacts:`` store and any home or replica pointed at the
    same server can load them. Requests to a server are bounded (``timeout`` seconds,
    ``max_retries``) and an unreachable server is one ``UnavailableError``, not minutes of
    MLflow's default retries.
    """

    def __init__(
        self, tracking_uri: str, home: Path, *, timeout: float = 10.0, max_retries: int = 1
    ) -> None:
        self.tracking_uri = tracking_uri
        self._home = home
        self._timeout = timeout
        self._max_retries = max_retries
        self._client_obj: MlflowClient | None = None
        self._on_connect: list[Callable[[], object]] = []

    def on_connect(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once, right after this process first connects to MLflow.

        The wiring hangs the governance mirror's drain here (``ModelGovernance.sync_registry``):
        lifecycle steps do not import MLflow, and the first command of a process that needs
        MLflow anyway (train, triage, serve, replay, validate, docs, ``model sync``) brings
        its tags and aliases up to date. A failing callback is logged, never raised.
        """
        self._on_connect.append(callback)

    @property
    def connected(self) -> bool:
        """Whether this process already holds an MLflow client (its import cost is paid)."""
        return self._client_obj is not None

    @property
    def remote(self) -> bool:
        """Whether this registry talks to a tracking server."""
        return is_remote_uri(self.tracking_uri)

    @property
    def _client(self) -> MlflowClient:
        if self._client_obj is None:
            # MLflow reads these at import/use; set once here, the only place bankml touches it.
            os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
            os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
            os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(max(1, round(self._timeout)))
            os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(self._max_retries)
            os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"
            os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
            if self.remote:
                self._require_reachable()
            from mlflow import MlflowClient

            logging.getLogger("mlflow").setLevel(logging.WARNING)
            logging.getLogger("alembic").setLevel(logging.WARNING)
            self._client_obj = MlflowClient(self.tracking_uri, self.tracking_uri)
            callbacks, self._on_connect = self._on_connect, []
            for callback in callbacks:
                try:
                    callback()
                except Exception as exc:  # a mirror that lags must not fail the command
                    first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
                    log.warning("could not bring MLflow's mirror up to date: %s", first)
        return self._client_obj

    def _require_reachable(self) -> None:
        """One bounded probe of the server's ``/health``: a closed port or a dead host is a
        clear error within ``timeout`` seconds instead of a silent hang."""
        import httpx

        url = self.tracking_uri.rstrip("/") + "/health"
        try:
            httpx.get(url, timeout=self._timeout).raise_for_status()
        except httpx.HTTPError as exc:
            raise UnavailableError(
                f"the MLflow tracking server at {self.tracking_uri} is unreachable "
                f"({type(exc).__name__}); start it or fix BANKML_MLFLOW_TRACKING_URI"
            ) from None

    def _experiment_id(self, name: str) -> str:
        client = self._client
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            return str(exp.experiment_id)
        if self.remote:
            # The server's artefact root (``mlflow-artifacts:`` with --serve-artifacts): files
            # must not stay on this machine, or no other home or replica could load them.
            return str(client.create_experiment(name))
        artifacts = (self._home / "mlartifacts").resolve()
        artifacts.mkdir(parents=True, exist_ok=True)
        return str(client.create_experiment(name, artifact_location=artifacts.as_uri()))

    @_server_errors
    def register(
        self,
        name: str,
        model_dir: Path,
        *,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        extra_artifacts: Path | None = None,
    ) -> ModelVersionInfo:
        """Log one training run (params, metrics, files) and register it as a new version.

        ``model_dir`` holds the files needed to load the model; they are uploaded under
        ``model/`` and their combined hash is recorded as the ``artifact_sha256`` tag.
        """
        client = self._client
        run = client.create_run(
            self._experiment_id(name), run_name=f"{name}-training", tags={"bankml.model": name}
        )
        run_id = run.info.run_id
        try:
            from mlflow.entities import Metric, Param, RunTag

            all_tags = {**tags, "artifact_sha256": sha256_dir(model_dir)}
            client.log_batch(
                run_id,
                metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()],
                params=[Param(k, str(v)[:6000]) for k, v in params.items()],
                tags=[RunTag(k, v) for k, v in all_tags.items()],
            )
            client.log_artifacts(run_id, str(model_dir), "model")
            if extra_artifacts is not None:
                client.log_artifacts(run_id, str(extra_artifacts), "evaluation")
            client.set_terminated(run_id)
        except Exception:
            client.set_terminated(run_id, status="FAILED")
            raise
        if not client.search_registered_models(filter_string=f"name = '{name}'"):
            client.create_registered_model(name, description=f"bankml {name} model")
        mv = client.create_model_version(
            name, source=f"runs:/{run_id}/model", run_id=run_id, tags=all_tags
        )
        return self.get(name, int(mv.version))

    @_server_errors
    def get(self, name: str, version: int) -> ModelVersionInfo:
        """One version with its run's params and metrics."""
        from mlflow.exceptions import MlflowException

        try:
            mv = self._client.get_model_version(name, str(version))
        except MlflowException as exc:
            if self.remote and _is_connection_failure(exc):
                raise
            raise NotFoundError(f"model {name} has no version {version}") from None
        run = self._client.get_run(mv.run_id) if mv.run_id else None
        return ModelVersionInfo(
            name=name,
            version=int(mv.version),
            run_id=mv.run_id or "",
            source=mv.source or "",
            created_at_ms=int(mv.creation_timestamp or 0),
            tags=dict(mv.tags or {}),
            aliases=tuple(getattr(mv, "aliases", ()) or ()),
            params=dict(run.data.params) if run else {},
            metrics=dict(run.data.metrics) if run else {},
        )

    @_server_errors
    def versions(self, name: str | None = None) -> list[ModelVersionInfo]:
        """All versions (of one model, or of every model), oldest first."""
        flt = f"name = '{name}'" if name else ""
        found = self._client.search_model_versions(filter_string=flt)
        return sorted(
            (self.get(mv.name, int(mv.version)) for mv in found),
            key=lambda v: (v.name, v.version),
        )

    @_server_errors
    def download(self, name: str, version: int) -> Path:
        """The version's model files on local disk (cached under home), hash-checked."""
        info = self.get(name, version)
        target = self._home / "model_cache" / name / str(version)
        if not target.exists():
            import mlflow.artifacts

            tmp = target.with_name(f".{version}.partial")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            local = mlflow.artifacts.download_artifacts(
                run_id=info.run_id,
                artifact_path="model",
                dst_path=str(tmp),
                tracking_uri=self.tracking_uri,
            )
            os.replace(local, target)
            shutil.rmtree(tmp, ignore_errors=True)
        return target

    @_server_errors
    def download_fresh(self, name: str, version: int, into: Path) -> Path:
        """The version's model files straight from the store into ``into`` (no cache):
        what replay and validation must use, so an altered artefact is seen."""
        import mlflow.artifacts

        info = self.get(name, version)
        local = mlflow.artifacts.download_artifacts(
            run_id=info.run_id,
            artifact_path="model",
            dst_path=str(into),
            tracking_uri=self.tracking_uri,
        )
        return Path(local)

    def exists(self, name: str, version: int) -> bool:
        """Whether the registry has this version."""
        try:
            self.get(name, version)
        except NotFoundError:
            return False
        return True

    def artifact_hash(self, name: str, version: int) -> str:
        """The hash of the stored artefact as registered (tag), for integrity checks."""
        return self.get(name, version).tags.get("artifact_sha256", "")

    @_server_errors
    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point an alias (e.g. ``champion``) at a version."""
        self._client.set_registered_model_alias(name, alias, str(version))

    @_server_errors
    def set_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Mirror a governance fact onto the version as a tag."""
        self._client.set_model_version_tag(name, str(version), key, value)

    @_server_errors
    def model_tags(self, name: str) -> dict[str, str] | None:
        """The registered model's own tags; None when MLflow has no model of that name."""
        from mlflow.exceptions import MlflowException

        try:
            model = self._client.get_registered_model(name)
        except MlflowException as exc:
            if self.remote and _is_connection_failure(exc):
                raise
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return dict(model.tags or {})

    @_server_errors
    def set_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag on the registered model itself (not on one version)."""
        self._client.set_registered_model_tag(name, key, value)

    def has_local_store(self) -> bool:
        """False when the tracking URI is a SQLite file that does not exist yet (no models),
        so callers can skip importing MLflow and migrating an empty store."""
        if self.tracking_uri.startswith("sqlite:///"):
            return Path(self.tracking_uri.removeprefix("sqlite:///")).exists()
        return True
