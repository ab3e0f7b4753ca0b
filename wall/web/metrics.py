"""Prometheus metrics of one web node, in a registry of its own (so tests can run several nodes)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only add noise to a scrape


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_in = Counter("wall_events_in", "Events received from the bus", ["wall"], registry=r)
        self.frames_out = Counter("wall_frames_out", "Frames written to screens", ["wall"], registry=r)
        self.clients = Gauge("wall_clients", "Connected screens", ["wall"], registry=r)
        self.dropped = Counter(
            "wall_clients_dropped", "Screens dropped because they could not keep up", ["wall"], registry=r
        )
        self.bus_latency = Histogram(
            "wall_bus_latency_seconds",
            "From the bus assigning an event id to this node receiving it",
            ["wall"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.webhook_posts = Counter(
            "wall_webhook_posts", "Posts accepted by the webhook", ["wall", "outcome"], registry=r
        )
        self.webhook_rejected = Counter(
            "wall_webhook_rejected", "Webhook requests refused", ["wall", "reason"], registry=r
        )
        # Limits against slow and many clients (wall/web/limits.py, wall/web/runner.py)
        self.connections = Gauge("wall_connections", "Open HTTP connections to this node", registry=r)
        self.connections_refused = Counter(
            "wall_connections_refused", "Connections closed at once: too many from one client address "
            "(per_client) or no file descriptor left (out_of_fds)", ["reason"], registry=r
        )
        self.body_timeouts = Counter(
            "wall_body_timeouts", "Requests answered 408: the body did not arrive in time", registry=r
        )
        self.sockets_refused = Counter(
            "wall_sockets_refused", "Wall sockets refused: too many from one client address", registry=r
        )
        self.password_checks = Gauge("wall_password_checks", "Password verifications running", registry=r)
        self.password_checks_refused = Counter(
            "wall_password_checks_refused", "Logins answered 503: too many password checks at once",
            registry=r,
        )
