"""``GET /v1/models``: the catalog models and aliases a tenant may use, in OpenAI's or Anthropic's list shape."""

from __future__ import annotations

from typing import Any

from gateway.settings import Settings


def usable_models(settings: Settings, tenant: str) -> dict[str, str]:
    """Model or alias name -> its provider, for every name ``tenant`` may ask for (its allow-list, if any)."""
    allowed = settings.routing.allowed(tenant)
    names = {name: spec.provider for name, spec in settings.models.items() if allowed is None or name in allowed}
    for alias, target in settings.aliases.items():
        if target in names:
            names[alias] = names[target]
    return dict(sorted(names.items()))


def model_list(settings: Settings, tenant: str, *, anthropic: bool) -> dict[str, Any]:
    """The list body: OpenAI's ``{"object": "list", "data"}`` or Anthropic's paged ``{"data", "has_more"}``."""
    names = usable_models(settings, tenant)
    if not anthropic:
        data = [{"id": name, "object": "model", "created": 0, "owned_by": owner} for name, owner in names.items()]
        return {"object": "list", "data": data}
    items = [
        {"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"} for name in names
    ]
    return {
        "data": items,
        "has_more": False,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
    }
