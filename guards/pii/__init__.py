"""PII and secrets: Presidio's pattern recognizers (no spaCy model, no network) plus patterns for API keys."""
