"""Dev tooling: the embedded broker, the dev stack, the demo and a small client of the wire contract."""
