"""The non-Kafka core of streamgate: settings, errors, providers, cache, pricing and the provider simulator."""
