"""BigQuery clients: the picklable factory and the credentials preflight (no network)."""

from __future__ import annotations

import json
import time

import pytest

from transforms.catalog.bigquery_client import BigQueryClientFactory, check_credentials


def test_client_factory_is_picklable_and_points_at_the_endpoint():
    import pickle

    factory = pickle.loads(
        pickle.dumps(BigQueryClientFactory(api_endpoint="http://127.0.0.1:1", anonymous=True))
    )
    client = factory("p")
    assert client.project == "p"
    assert client._connection.API_BASE_URL == "http://127.0.0.1:1"


@pytest.fixture
def no_adc(tmp_path, monkeypatch):
    """An environment with no Application Default Credentials anywhere."""
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))  # no ADC file there
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    return tmp_path


def test_check_credentials_missing_key_file_is_one_line_fast(no_adc, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(no_adc / "nothing.json"))
    start = time.monotonic()
    message = check_credentials("proj")
    assert time.monotonic() - start < 3
    assert message and "\n" not in message
    assert "nothing.json does not exist" in message and "gcloud auth application-default" in message


def test_check_credentials_without_any_adc(no_adc):
    start = time.monotonic()
    message = check_credentials("proj")
    assert time.monotonic() - start < 5
    # The one preflight (transforms.io.credentials) words it for every service.
    assert message and message.startswith("BigQuery: no usable Application Default Credentials")
    assert "\n" not in message
    assert check_credentials("").startswith("BigQuery: no Google Cloud project")


def test_check_credentials_accepts_a_credentials_file(no_adc, monkeypatch):
    key = no_adc / "adc.json"
    key.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "id.apps.googleusercontent.com",
                "client_secret": "secret",
                "refresh_token": "token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert check_credentials("proj") is None
