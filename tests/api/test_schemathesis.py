"""Schemathesis against the live OpenAPI document: no 5xx on any generated request,
every response matches its documented status, content type and schema, and
invalid requests are refused with a 4xx.

Bounded: a few positive and negative examples per operation (seconds in all). The
operations are walked here (schemathesis' pytest loader does not run on pytest 9).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.specs.openapi.schemas import OpenApiSchema

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 4}


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=str)
def test_every_operation_conforms(
    api_schema: OpenApiSchema, mode: GenerationMode
) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Case[Any]) -> None:
            case.call_and_validate(checks=CHECKS, timeout=30)

        try:
            check()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # no parameter to break
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 18
    assert not failures, "\n\n".join(failures)
