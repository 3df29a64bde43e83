"""`streamgate serve`: the OpenAI- and Anthropic-compatible HTTP front door over the Kafka request/reply SDK."""
