"""The BigQuery catalog's pure parts: dataset spec, MERGE SQL, and which errors are retried."""

from __future__ import annotations

import pytest

from transforms.catalog.bigquery_sql import merge_statement, parse_dataset, upsert_script
from transforms.errors import classify
from transforms.io.retry import call_with_retries
from transforms.schemas import (
    FailureRow,
    SegmentRow,
    VideoRow,
)

# -------------------------------------------------------------- unit tests


def test_parse_dataset():
    assert parse_dataset("my-proj:catalog_1") == ("my-proj", "catalog_1")
    assert parse_dataset("my-proj.catalog") == ("my-proj", "catalog")
    for bad in ("catalog", "p:", ":d", "p:d.x", "p:d-x"):
        with pytest.raises(ValueError, match="PROJECT:DATASET|letters"):
            parse_dataset(bad)


def test_merge_matches_nullable_keys_null_safe():
    sql = merge_statement("`p.d.failures`", "`p.d.s`", FailureRow)
    assert "T.input_uri = S.input_uri AND T.stage = S.stage" in sql
    assert (
        "(T.chunk_index = S.chunk_index OR (T.chunk_index IS NULL AND S.chunk_index IS NULL))"
        in sql
    )
    assert "UPDATE SET video_id = S.video_id" in sql and "input_uri = S.input_uri," not in sql
    assert "(T.artifact = S.artifact OR (T.artifact IS NULL AND S.artifact IS NULL))" in sql
    assert "artifact = S.artifact," not in sql.split("UPDATE SET", 1)[1].split("\n")[0]


def test_upsert_script_is_one_atomic_merge_that_deletes_the_replaced_scope():
    sql = upsert_script("`p.d.segments`", "`p.d.s`", SegmentRow, "video_id", ["scope_0"])
    assert sql.count(";") == 1 and "TRANSACTION" not in sql
    assert sql.startswith("MERGE `p.d.segments` T USING `p.d.s` S")
    assert "WHEN NOT MATCHED BY SOURCE AND (T.video_id IN UNNEST(@scope_0)) THEN DELETE" in sql
    two = upsert_script("`t`", "`s`", SegmentRow, "video_id", ["s0", "s1"])
    assert "(T.video_id IN UNNEST(@s0) OR T.video_id IN UNNEST(@s1))" in two
    alone = upsert_script("`p.d.videos`", "`p.d.s`", VideoRow, None, [], transaction=True)
    assert "TRANSACTION" not in alone and "NOT MATCHED BY SOURCE" not in alone
    assert upsert_script("`t`", None, SegmentRow, "video_id", ["s0"]).startswith("DELETE")


def test_classify_tells_bigquery_transient_errors_apart():
    """The cases BigQuery's own ``is_transient`` covered, now decided by ``classify``."""
    from google.api_core import exceptions as api

    def transient(exc: BaseException) -> bool:
        return not classify(exc)[1]

    assert transient(api.ServiceUnavailable("x"))
    assert transient(api.TooManyRequests("x"))
    assert transient(api.InternalServerError("x"))
    assert transient(api.BadGateway("x"))
    assert transient(api.GatewayTimeout("x"))
    assert transient(api.DeadlineExceeded("x"))
    assert transient(api.Forbidden("x", errors=[{"reason": "rateLimitExceeded"}]))
    assert transient(api.BadRequest("x", errors=[{"reason": "jobBackendError"}]))
    assert transient(api.BadRequest("Transaction is aborted due to concurrent update"))
    assert transient(api.BadRequest("could not serialize access due to concurrent update"))
    assert transient(ConnectionResetError())
    assert transient(TimeoutError())
    assert not transient(api.BadRequest("Syntax error"))
    assert not transient(api.Forbidden("x", errors=[{"reason": "accessDenied"}]))
    assert not transient(api.NotFound("no such table"))
    assert not transient(ValueError("x"))


def test_classify_takes_requests_network_errors_as_transient():
    import requests

    assert not classify(requests.ConnectionError("reset"))[1]
    assert not classify(requests.Timeout("slow"))[1]


BIGQUERY_RETRY = dict(what="BigQuery merge", attempts=6, base_delay_s=1.0, max_delay_s=32.0)


def test_backoff_retries_transient_then_raises_permanent():
    from google.api_core import exceptions as api

    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise api.InternalServerError("boom")
        return "ok"

    assert call_with_retries(flaky, **BIGQUERY_RETRY, sleep=sleeps.append) == "ok"
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2

    def bad():
        raise api.BadRequest("no such column")

    with pytest.raises(api.BadRequest):
        call_with_retries(bad, **BIGQUERY_RETRY, sleep=sleeps.append)
    assert len(sleeps) == 2
