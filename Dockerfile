# Bündnisbot: slim image, non-root, state in /data (SQLite database and Matrix store).
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
# bot/defaults/*.toml link to the AG list and survey in config/; the wheel gets the files.
COPY config ./config
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.12-slim
# A font with umlauts for the result charts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin buendnisbot \
 && mkdir -p /data /app/config \
 && chown buendnisbot /data
COPY --from=build /opt/venv /opt/venv
COPY config /app/config
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BUENDNISBOT_DATABASE_URL=sqlite+aiosqlite:////data/buendnisbot.db \
    BUENDNISBOT_MATRIX_STORE=/data/matrix-store \
    BUENDNISBOT_HEARTBEAT_FILE=/data/heartbeat
USER buendnisbot
VOLUME ["/data"]
# Healthy while the bot's event loop runs: it touches /data/heartbeat every 30 s.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
  CMD ["buendnisbot", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["buendnisbot"]
CMD ["run"]
