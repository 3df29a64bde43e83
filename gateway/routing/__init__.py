"""Routing configuration: task tiers, cheap-first cascades, tenant allow-lists and context policies."""
