"""Reports over the usage stream (``streamgate usage``): pure functions over parsed usage events.

* :mod:`~gateway.usage_report.timerange` — ``--since`` / ``--from`` / ``--to`` into epoch milliseconds.
* :mod:`~gateway.usage_report.aggregate` — deduplication by request id and per-group totals and percentiles.
* :mod:`~gateway.usage_report.reprice` — every event's cost again at the current price table.
* :mod:`~gateway.usage_report.render` — table, CSV and JSON output.
* :mod:`~gateway.usage_report.html` — a self-contained HTML report with inline SVG charts.
"""
