"""The catalog: the four tables (videos, segments, assets, failures), upserted by key.

* ``tables``: pure table logic: grouping rows by table, keys, upserts, replace scope.
* ``rows``: pure builders of catalog rows from what the stages found.
* ``build_rows``: the ``BuildCatalogRows`` composite.
* ``ndjson_store``: the local (or ``gs://``) NDJSON catalog files, each with its Parquet twin.
* ``parquet_tables``: pure Arrow schemas from the row models, and Parquet bytes of a table.
* ``fingerprints``: pure source identity and stage-settings fingerprints; what a rerun does.
* ``restore``: pure probes from ``videos`` rows and motion from ``motion.json``.
* ``plan_reruns``: the ``PlanReruns`` composite: only new or changed files reach probe.
* ``bigquery_sql``, ``bigquery_client``, ``bigquery_store``: the BigQuery catalog.
* ``write_catalog``: the ``WriteCatalog`` and ``WriteCatalogToBigQuery`` composites.
"""
