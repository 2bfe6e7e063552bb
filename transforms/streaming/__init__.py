"""Streaming sources: GCS upload notifications from Pub/Sub, and a watched folder.

* ``notifications``: pure parsing of GCS ``OBJECT_FINALIZE`` messages, prefix checks,
  generation order.
* ``pubsub_source``: the DoFns that turn notifications into new files, once each.
* ``watch_folder``: the splittable DoFn that polls a folder for complete files.
* ``read_new_uploads``: the ``ReadGcsUploads``, ``UploadsToFound`` and ``WatchFolder``
  composites.
"""
