"""The long-running service: lifecycle, triggers, health, and its edges (watcher, HTTP, metrics, systemd)."""
