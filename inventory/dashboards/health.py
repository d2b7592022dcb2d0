"""The "Inventory / Pipeline health" dashboard: is data flowing, how late, how dirty.

``ingested_at`` is the Kafka message timestamp (the broker append time with Redpanda's
default ``LogAppendTime``, else the producer's), so lag = ``ingested_at - occurred_at`` is
the time from the business event to the pipeline's input. A stall shows as a growing
"since last event".
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.models import common

from inventory.dashboards.common import PROMETHEUS, Board, config, stacked, thresholds

UID = "inventory-pipeline"


def build() -> Board:
    board = Board(
        UID,
        "Inventory / Pipeline health",
        "Ingest rate, event-to-ingest lag, dead letters and late events.",
    )
    log = board.log
    board.builder.refresh("10s").time("now-1h", "now")

    board.add(
        stat.Panel()
        .title("Since last event")
        .description("Time since the newest ingested event; grows when the pipeline stalls")
        .span(6)
        .height(4)
        .with_target(
            log.target(
                "Since last event",
                """
                SELECT dateDiff('millisecond', max(ingested_at), now64(3)) / 1000
                       AS seconds_since_last_event
                FROM ${database}.events
                """,
                ["seconds_since_last_event"],
            )
        )
        .unit("s")
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .thresholds(thresholds((None, "green"), (60, "orange"), (300, "red")))
    )
    board.add(
        stat.Panel()
        .title("Events in range")
        .description("Accepted events ingested in the time range")
        .span(6)
        .height(4)
        .with_target(
            log.target(
                "Events in range",
                """
                SELECT count() AS events
                FROM ${database}.events FINAL
                WHERE $__timeFilter(ingested_at)
                """,
                ["events"],
            )
        )
        .graph_mode(common.BigValueGraphMode.NONE)
        .thresholds(thresholds((None, "blue")))
    )
    board.add(
        stat.Panel()
        .title("Rejected in range")
        .description("Dead letters received in the time range, and the late ones among them")
        .span(12)
        .height(4)
        .with_target(
            log.target(
                "Rejected in range",
                """
                SELECT count() AS dead_letters,
                       countIf(reason = 'late') AS late_events
                FROM ${database}.dead_letters FINAL
                WHERE $__timeFilter(received_at)
                """,
                ["dead_letters", "late_events"],
            )
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .thresholds(thresholds((None, "green"), (1, "orange")))
    )
    board.add(
        timeseries.Panel()
        .title("Events ingested per second")
        .span(12)
        .height(8)
        .with_target(
            log.target(
                "Events ingested per second",
                """
                SELECT $__timeInterval(ingested_at) AS time, event_type,
                       count() / $__interval_s AS events_per_second
                FROM ${database}.events FINAL
                WHERE $__timeFilter(ingested_at)
                GROUP BY time, event_type
                ORDER BY time
                """,
                ["time", "event_type", "events_per_second"],
                "timeseries",
            )
        )
        .stacking(stacked())
        .fill_opacity(40)
        .unit("reqps")
    )
    board.add(
        timeseries.Panel()
        .title("Event-to-ingest lag")
        .description("ingested_at - occurred_at of the events ingested in each interval")
        .span(12)
        .height(8)
        .with_target(
            log.target(
                "Event-to-ingest lag",
                """
                SELECT $__timeInterval(ingested_at) AS time,
                       quantile(0.5)(dateDiff('millisecond', occurred_at, ingested_at)) / 1000
                           AS p50,
                       quantile(0.99)(dateDiff('millisecond', occurred_at, ingested_at)) / 1000
                           AS p99,
                       max(dateDiff('millisecond', occurred_at, ingested_at)) / 1000 AS max
                FROM ${database}.events FINAL
                WHERE $__timeFilter(ingested_at)
                GROUP BY time
                ORDER BY time
                """,
                ["time", "p50", "p99", "max"],
                "timeseries",
            )
        )
        .unit("s")
    )
    board.add(
        timeseries.Panel()
        .title("Dead letters by reason")
        .description("By reason code (docs/contracts.md): late = beyond its key's lateness horizon")
        .span(12)
        .height(8)
        .with_target(
            log.target(
                "Dead letters by reason",
                """
                SELECT $__timeInterval(received_at) AS time,
                       reason,
                       count() AS dead_letters
                FROM ${database}.dead_letters FINAL
                WHERE $__timeFilter(received_at)
                GROUP BY time, reason
                ORDER BY time
                """,
                ["time", "reason", "dead_letters"],
                "timeseries",
            )
        )
        .draw_style(common.GraphDrawStyle.BARS)
        .stacking(stacked())
        .fill_opacity(70)
    )
    add_metric_panels(board)
    board.add(
        table.Panel()
        .title("Recent dead letters")
        .description("Newest rejected messages with the reason; the payload is cut at 200 bytes")
        .span(12)
        .height(8)
        .with_target(
            log.target(
                "Recent dead letters",
                """
                SELECT received_at, error, topic, partition, offset,
                       substring(payload, 1, 200) AS payload
                FROM ${database}.dead_letters FINAL
                WHERE $__timeFilter(received_at)
                ORDER BY received_at DESC, partition, offset
                LIMIT 100
                """,
                ["received_at", "error", "topic", "partition", "offset", "payload"],
            )
        )
        .override_by_name("error", [config("custom.width", 360)])
    )
    return board


def add_metric_panels(board: Board) -> None:
    """What the dataflow's own metrics say (the Prometheus datasource;
    inventory.runtime.metrics)."""
    board.row("Dataflow metrics (Prometheus)")
    board.add(
        timeseries.Panel()
        .title("Consumer lag")
        .description("Messages between the dataflow's position and each partition's end")
        .span(12)
        .height(8)
        .with_target(
            board.promql(
                "sum by (topic, partition) (inventory_consumer_lag_messages)",
                "{{topic}} p{{partition}}",
            )
        )
        .unit("short"),
        PROMETHEUS,
    )
    board.add(
        timeseries.Panel()
        .title("Throughput")
        .description("Messages read and events accepted per second")
        .span(12)
        .height(8)
        .with_target(board.promql("sum(rate(inventory_messages_read_total[1m]))", "read"))
        .with_target(
            board.promql("sum(rate(inventory_events_accepted_total[1m]))", "accepted", "B")
        )
        .unit("reqps"),
        PROMETHEUS,
    )
    board.add(
        timeseries.Panel()
        .title("Dead-letter rate by reason")
        .description("Dead letters per second by reason code (docs/contracts.md)")
        .span(12)
        .height(8)
        .with_target(
            board.promql("sum by (reason) (rate(inventory_dead_letters_total[5m]))", "{{reason}}")
        )
        .stacking(stacked())
        .unit("reqps"),
        PROMETHEUS,
    )
    board.add(
        timeseries.Panel()
        .title("ClickHouse insert latency")
        .description("p50 and p99 of one insert per table, retries included")
        .span(12)
        .height(8)
        .with_target(
            board.promql(
                "histogram_quantile(0.99, sum by (le, table) "
                "(rate(inventory_sink_batch_seconds_bucket[5m])))",
                "p99 {{table}}",
            )
        )
        .with_target(
            board.promql(
                "histogram_quantile(0.5, sum by (le, table) "
                "(rate(inventory_sink_batch_seconds_bucket[5m])))",
                "p50 {{table}}",
                "B",
            )
        )
        .unit("s"),
        PROMETHEUS,
    )
    board.add(
        timeseries.Panel()
        .title("Availability API freshness")
        .description(
            "Per API replica: p99 from a stock change's publication to the replica answering "
            "with it, and the stock-topic messages it has not read yet"
        )
        .span(24)
        .height(8)
        .with_target(
            board.promql(
                "histogram_quantile(0.99, sum by (le, instance) "
                "(rate(inventory_api_change_delay_seconds_bucket[5m])))",
                "p99 delay {{instance}}",
            )
        )
        .with_target(
            board.promql(
                "max by (instance) (inventory_api_topic_lag_messages)", "lag {{instance}}", "B"
            )
        )
        .unit("s"),
        PROMETHEUS,
    )
