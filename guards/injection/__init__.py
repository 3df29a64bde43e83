"""Prompt-injection and jailbreak screening: a small trained classifier plus heuristics for what it misses."""
