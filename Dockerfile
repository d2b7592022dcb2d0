# syntax=docker/dockerfile:1
# The inventory image: the Bytewax dataflow by default
#   python -m bytewax.run "dataflows.main:flow()" -r <recovery dir> -s <epoch s> -b 0
# and every `inventory <command>` (generator, schema migrations, dashboards publish).
# Configured only by INVENTORY_* environment variables (README "Configuration").
FROM python:3.12.8-slim-bookworm

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

# Dependencies first, from the project's own pyproject.toml (a layer that survives code edits).
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The code. Installed in place (editable): the SQL migrations and Grafana files are read
# from the source tree.
COPY inventory/ inventory/
COPY dataflows/ dataflows/
COPY sinks/ sinks/
COPY generators/ generators/
COPY sql/ sql/
COPY grafana/ grafana/
RUN pip install --no-deps -e . \
 && python -c "import dataflows.main, inventory.cli"

USER inventory
VOLUME ["/var/lib/inventory"]

CMD ["python", "-m", "bytewax.run", "dataflows.main:flow()", \
     "-w", "1", "-r", "/var/lib/inventory/recovery", "-s", "2", "-b", "0"]
