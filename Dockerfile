# coopwatch: the bot in a container. Build: docker build -t coopwatch .
# Run:   docker run --env-file .env -v coopwatch-data:/data coopwatch
# With PostgreSQL: docker compose up -d (compose.yaml). Configuration comes from the
# environment only; .env is never copied into the image (.dockerignore).
# The package is built into a wheel where a C compiler is at hand, so that setup.py compiles
# the classifier's modules with mypyc (news/compiled.py); the image that runs has no compiler.
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install --yes --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml setup.py README.md /src/
COPY bot /src/bot
COPY coopwatch /src/coopwatch
COPY handlers /src/handlers
COPY news /src/news
COPY storage /src/storage
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels /src

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A system user with no login shell; its home is the data directory.
RUN groupadd --system --gid 10001 coopwatch \
    && useradd --system --uid 10001 --gid coopwatch --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin coopwatch \
    && mkdir /data \
    && chown coopwatch:coopwatch /data

# Only what the package needs; the runtime dependencies come from pyproject.toml (no extras).
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

# SQLite by default, in the volume; compose.yaml points DATABASE_URL at PostgreSQL instead.
WORKDIR /data
ENV DATABASE_URL=sqlite:////data/coopwatch.db
VOLUME ["/data"]
USER coopwatch

# The web server (archive, Atom, /metrics, /health; the webhook in webhook mode) listens on
# WEB_PORT (8443 in webhook mode) with WEB_LISTEN=0.0.0.0; polling mode needs no port at all.
EXPOSE 8443

# Configuration loads and the database answers; no call to Telegram or the feeds, so a
# healthcheck every minute costs nobody anything.
HEALTHCHECK --interval=60s --timeout=30s --start-period=30s --retries=3 \
    CMD ["coopwatch", "doctor", "--quick"]

ENTRYPOINT ["coopwatch"]
CMD ["run"]
