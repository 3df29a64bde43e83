"""The worker runtime: the Faust app, the agents wiring of the pipeline, topics, delivery and accounting.

Nothing here imports the dev tooling (:mod:`streams.devtools`), the CLI (:mod:`streams.cli`) or :mod:`bench`.
"""
