"""Input guardrails: each guard is one :class:`guards.base.Guard`, registered in :data:`guards.registry.GUARDS`."""
