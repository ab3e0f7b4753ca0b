"""Alerts where the team is: spikes, sources, writers and kiosks, delivered to Slack, Teams and signed
webhooks (docs/alerts.md)."""
