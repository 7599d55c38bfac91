"""``inboxwarden serve``: the long-running service (docs/behaviour.md §11).

`daemon` (the process: signals, start, stop), `scheduler` (the cron clock, the only
user of apscheduler), `jobs` (what each schedule runs), `health` (``/healthz`` and
``/metrics`` over HTTP), `metrics` (the only user of prometheus_client).
"""
