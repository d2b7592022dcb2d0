# syntax=docker/dockerfile:1
# The inventory image: the Bytewax dataflow by default
#   python -m bytewax.run "dataflows.main:flow()" -r <recovery dir> -s <epoch s> -b 0
# and every `inventory <command>` (generator, schema migrations, dashboards publish).
# Configured only by INVENTORY_* environment variables (README "Configuration").
FROM python:3.12.8-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    INVENTORY_DATA_DIR=/var/lib/inventory \
    INVENTORY_RECOVERY_DIR=/var/lib/inventory/recovery

RUN groupadd --system --gid 10001 inventory \
 && useradd --system --uid 10001 --gid inventory --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin inventory \
 && mkdir -p /var/lib/inventory \
 && chown inventory:inventory /var/lib/inventory

WORKDIR /app

# Dependencies first, pinned with hashes (requirements/image.lock, `make lock`): the same
# versions on every build. No embedded ClickHouse or broker (the `local` extra): the
# container talks to Redpanda and a ClickHouse server.
COPY requirements/image.lock /tmp/image.lock
RUN pip install --require-hashes --no-deps -r /tmp/image.lock && rm /tmp/image.lock

# The code, installed as a wheel (not editable): migrations and queries are package data.
COPY pyproject.toml README.md ./
COPY inventory/ inventory/
COPY dataflows/ dataflows/
COPY sinks/ sinks/
COPY generators/ generators/
COPY grafana/ grafana/
RUN pip install --no-deps . \
 && python -c "import dataflows.main, inventory.cli.main, inventory.clickhouse.migrations as m; m.load_migrations()"

USER inventory
VOLUME ["/var/lib/inventory"]

CMD ["python", "-m", "bytewax.run", "dataflows.main:flow()", \
     "-w", "1", "-r", "/var/lib/inventory/recovery", "-s", "2", "-b", "0"]

# The forecast job (`inventory forecast --every-hours 24`, compose service `forecast`): the
# same image plus the `forecast` extra (statsmodels, utilsforecast: requirements/
# forecast.lock, the image's pins plus theirs). Build with --target forecast.
FROM runtime AS forecast
USER root
COPY requirements/forecast.lock /tmp/forecast.lock
RUN pip install --require-hashes --no-deps -r /tmp/forecast.lock && rm /tmp/forecast.lock \
 && python -c "import inventory.app.forecast.job"
USER inventory
CMD ["inventory", "forecast", "--every-hours", "24"]

# The default target: the dataflow image above.
FROM runtime
