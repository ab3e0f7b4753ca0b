"""Prometheus metrics of one web node, in a registry of its own (so tests can run several nodes)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

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


PRIVATE = "(private)"  # not a valid wall name, so it cannot be mistaken for one


def without_private_walls(registry: CollectorRegistry, private: set[str]) -> CollectorRegistry:
    """The registry's series with every private wall's `wall` label replaced by PRIVATE and their values
    summed (counters, gauges and cumulative histogram buckets all add up), for callers who may not know
    those walls' names."""
    shown = CollectorRegistry(auto_describe=False)
    shown.register(_Relabelled(registry, private))
    return shown


class _Relabelled(Collector):
    def __init__(self, registry: CollectorRegistry, private: set[str]) -> None:
        self.registry = registry
        self.private = private

    def collect(self) -> Iterable[Metric]:
        for family in self.registry.collect():
            summed: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
            for sample in family.samples:
                labels = {k: PRIVATE if k == "wall" and v in self.private else v
                          for k, v in sample.labels.items()}
                key = (sample.name, tuple(labels.items()))
                summed[key] = summed.get(key, 0.0) + sample.value
            out = Metric(family.name, family.documentation, family.type, family.unit)
            for (name, pairs), value in summed.items():
                out.add_sample(name, dict(pairs), value)
            yield out
