# scheduled as a container, e.g. a sidecar next to git-sync (see deploy/kubernetes/).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SCHEDULED_HTTP_ADDRESS=0.0.0.0:9464 SCHEDULED_LOG_FORMAT=json
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scheduled ./scheduled
RUN pip install --no-cache-dir . && useradd --uid 65532 --no-create-home scheduled
USER 65532
EXPOSE 9464
# ROOT is the git-sync link (e.g. /git/current); `scheduled run` follows its swaps.
ENTRYPOINT ["scheduled", "run"]
CMD ["/git/current"]
