"""Local Google Cloud emulators for the integration tests: GCS, Pub/Sub and BigQuery.

``process`` starts and stops them; ``gcs``, ``pubsub`` and ``bigquery`` hold one
session fixture each.

Each emulator is a subprocess on a free port of 127.0.0.1, started once per test
session and stopped at its end. A fixture that cannot start its emulator (package,
binary or Python missing) skips the tests that use it, with the reason and the fix.

Use them by importing the fixtures into a test module::

    from tests.helpers.emulators.gcs import gcs_emulator  # noqa: F401  (a pytest fixture)

    @pytest.mark.integration
    def test_x(gcs_emulator):
        bucket = gcs_emulator.create_bucket("media")
        ...FileSystems.open("gs://media/...")

All three are session-scoped: the first test that asks starts the emulator, and the
environment they set stays until the session ends.

* ``gcs_emulator``: gcp-storage-emulator (pure Python; has the rewrite API that
  ``FileSystems.rename`` uses). ``STORAGE_EMULATOR_HOST`` points google-cloud-storage, and
  Beam's GCS IO built on it, at the emulator, and Beam's cached credentials are made
  anonymous, so ``FileSystems.match/open/create/rename/delete`` on ``gs://`` work in this
  process and in an in-process ``DirectRunner`` pipeline. Buckets: ``create_bucket``.
* ``pubsub_emulator``: the official emulator of the Google Cloud CLI (Java); yields
  ``host:port`` and sets ``PUBSUB_EMULATOR_HOST`` (google-cloud-pubsub and Beam's
  ``ReadFromPubSub`` honour it).
* ``bigquery_emulator``: local-bigquery (DuckDB) from ``.venv-bq``
  (``scripts/emulators.sh install``: it needs Python 3.13); yields the endpoint, a
  picklable ``client_factory()`` for ``WriteCatalogToBigQuery`` and ``new_dataset()``.

Pitfalls these fixtures take care of:

* Without ``NO_GCE_CHECK=true`` google-auth probes the GCE metadata server (seconds).
* Beam caches credentials once per process (``apache_beam.internal.gcp.auth._Credentials``)
  and, when none exist, first retries ``google.auth.default()`` with backoff for about
  25 s before falling back to anonymous. Its GCS IO makes a new ``storage.Client`` for
  every call (nothing else to reset), so the env var and that cache are all it takes.
* Workers of ``--direct_running_mode=multi_processing`` are new processes: they inherit
  the env vars but not the credentials cache, so each pays the 25 s once. Use the
  in-process DirectRunner with the GCS emulator.
"""
