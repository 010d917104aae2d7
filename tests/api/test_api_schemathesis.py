"""A property-based run of schemathesis against the live API: no request, however odd, gets a
500, and every response matches the OpenAPI document."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.api.conftest import ApiClient
from tests.support.desk import open_ticket

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    )
)


async def test_schemathesis_finds_no_500(api: ApiClient, tmp_path: Path) -> None:
    for i in range(3):
        await open_ticket(api.desk, f"C{i}", f"Question {i} about my order")
    st = Path(sys.executable).with_name("st")
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        api.base + "/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {api.key}",
        "--max-time",
        os.environ.get("HELPDESK_TEST_SCHEMATHESIS_SECONDS", "20"),
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--suppress-health-check",
        "all",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
