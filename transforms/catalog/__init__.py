"""The catalog: the four tables (videos, segments, assets, failures), upserted by key.

* ``tables``: pure table logic: grouping rows by table, keys, upserts, replace scope.
* ``rows``: pure builders of catalog rows from what the stages found.
* ``build_rows``: the ``BuildCatalogRows`` composite.
* ``ndjson_store``: the local (or ``gs://``) NDJSON catalog files.
* ``bigquery_sql``, ``bigquery_client``, ``bigquery_store``: the BigQuery catalog.
* ``write_catalog``: the ``WriteCatalog`` and ``WriteCatalogToBigQuery`` composites.
"""
