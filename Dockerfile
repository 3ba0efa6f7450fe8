# scheduled as a container, e.g. a sidecar next to git-sync (see deploy/kubernetes/).
#   docker build -t scheduled:0.1.0 .
#   docker run --rm -v "$PWD/workflows:/git/current:ro" -e TEMPORAL_ADDRESS=host:7233 -p 9464:9464 scheduled:0.1.0
#
# The base is pinned to a Python patch release on a Debian release, so a rebuild gets the same
# Python. To pin the exact image as well, add its digest and refresh both together when moving
# to a newer patch release (the tag's digest changes with every Debian security rebuild):
#   docker buildx imagetools inspect python:3.11.15-slim-trixie    # prints "Digest: sha256:…"
#   FROM python:3.11.15-slim-trixie@sha256:<that digest>
FROM python:3.11.15-slim-trixie
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SCHEDULED_HTTP_ADDRESS=0.0.0.0:9464 SCHEDULED_LOG_FORMAT=json \
    GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*
# git reads the checkout's revision. The tree belongs to another user (git-sync runs as 65533),
# which git refuses as "dubious ownership" unless safe.directory allows it (GIT_CONFIG_* above).
# Not pinned to a Debian version (DL3008): the base tag fixes the Debian release, whose
# security updates replace the old package versions, so a pinned one would stop building.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scheduled ./scheduled
RUN pip install --no-cache-dir . \
    && groupadd --system --gid 65532 scheduled \
    && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin scheduled
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 65532:65532
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ['SCHEDULED_HTTP_ADDRESS'].rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
# ROOT is the git-sync link (e.g. /git/current); `scheduled run` follows its swaps.
ENTRYPOINT ["scheduled", "run"]
CMD ["/git/current"]
