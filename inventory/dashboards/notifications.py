"""Where the alerts go: a webhook contact point and the notification policy that routes
every alert to it (critical ones sooner and more often).

File provisioning (``grafana/provisioning/alerting/``) takes the webhook's URL from
Grafana's environment, ``GRAFANA_ALERT_WEBHOOK_URL``: Grafana interpolates ``$VAR`` in
alerting provisioning files, contact point settings included (Grafana PR #55666; the
"Template variable interpolation" section of
https://grafana.com/docs/grafana/latest/alerting/set-up/provision-alerting-resources/file-provisioning/).
``inventory dashboards publish`` sends the same over the HTTP API, with the URL from
``INVENTORY_GRAFANA_ALERT_WEBHOOK_URL``.

The provisioned policy replaces the organization's notification policy tree (file
provisioning manages the whole tree: Grafana's ``policies`` provisioning).
"""

from __future__ import annotations

from typing import Any

CONTACT_POINT = "inventory-oncall"
RECEIVER_UID = "inventory-webhook"
# Not a URL: Grafana expands it from its environment when it reads the file.
WEBHOOK_URL_FROM_ENV = "$GRAFANA_ALERT_WEBHOOK_URL"
GROUP_BY = ["grafana_folder", "alertname"]


def webhook_settings(url: str) -> dict[str, Any]:
    return {"url": url, "httpMethod": "POST"}


def contact_points_document() -> dict[str, object]:
    """``contactPoints`` for file provisioning."""
    receiver = {
        "uid": RECEIVER_UID,
        "type": "webhook",
        "settings": webhook_settings(WEBHOOK_URL_FROM_ENV),
        "disableResolveMessage": False,
    }
    return {
        "apiVersion": 1,
        "contactPoints": [{"orgId": 1, "name": CONTACT_POINT, "receivers": [receiver]}],
    }


def policy_tree() -> dict[str, Any]:
    """Every alert to the on-call webhook, grouped by folder and rule; critical ones (a
    stalled pipeline) sent sooner and repeated hourly."""
    return {
        "receiver": CONTACT_POINT,
        "group_by": GROUP_BY,
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "routes": [
            {
                "receiver": CONTACT_POINT,
                "object_matchers": [["severity", "=", "critical"]],
                "group_wait": "10s",
                "repeat_interval": "1h",
            }
        ],
    }


def policies_document() -> dict[str, object]:
    """``policies`` for file provisioning (the organization's whole tree)."""
    return {"apiVersion": 1, "policies": [{"orgId": 1, **policy_tree()}]}


def contact_point_body(url: str) -> dict[str, Any]:
    """The body of ``POST/PUT /api/v1/provisioning/contact-points``."""
    return {
        "uid": RECEIVER_UID,
        "name": CONTACT_POINT,
        "type": "webhook",
        "settings": webhook_settings(url),
        "disableResolveMessage": False,
    }
