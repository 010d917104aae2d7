# syntax=docker/dockerfile:1
# The help desk bot: `helpdesk db upgrade`, then `helpdesk run` (see docker/entrypoint.sh).
# Build: docker build -t telegram-helpdesk .   Compose file: docker-compose.yml (README, Docker).
# BASE_IMAGE: any Debian-like image with Python >= 3.11 and its venv module. CI builds FROM a
# Debian bookworm made with debootstrap, since no registry is reachable there (.ci/image).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/helpdesk
WORKDIR /src
# Everything lands in a virtualenv that the runtime stage copies whole (no compilers there).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY models ./models
COPY storage ./storage
COPY triage ./triage
RUN /opt/helpdesk/bin/pip install .

FROM ${BASE_IMAGE}
ENV PATH=/opt/helpdesk/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HELPDESK_DATA_DIR=/var/lib/helpdesk \
    HELPDESK_LOG_FORMAT=json \
    HELPDESK_METRICS_PORT=9100 \
    HELPDESK_METRICS_HOST=0.0.0.0
RUN groupadd --system --gid 10001 helpdesk \
    && useradd --system --uid 10001 --gid helpdesk --home-dir /var/lib/helpdesk --no-create-home \
       --shell /usr/sbin/nologin helpdesk \
    && install -d -o helpdesk -g helpdesk -m 0750 /var/lib/helpdesk
COPY --from=build /opt/helpdesk /opt/helpdesk
COPY docker/entrypoint.sh /usr/local/bin/helpdesk-entrypoint
COPY docker/healthcheck.py /usr/local/bin/helpdesk-healthcheck
USER helpdesk
WORKDIR /var/lib/helpdesk
# The SQLite file (when no HELPDESK_DATABASE_URL is set), triage models, exports.
VOLUME ["/var/lib/helpdesk"]
# 9100: /metrics and /health; 8080: the webhook endpoint (`run --webhook`); 8081: the REST API
# (when HELPDESK_API_PORT=8081 and HELPDESK_API_HOST=0.0.0.0 are set; off by default).
EXPOSE 9100 8080 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "/usr/local/bin/helpdesk-healthcheck"]
ENTRYPOINT ["helpdesk-entrypoint"]
CMD ["run"]
