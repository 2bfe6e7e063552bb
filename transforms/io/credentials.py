"""Cloud credentials as reelbeam needs them: none at all for the local emulators."""

from __future__ import annotations

import os


def use_emulator_credentials() -> None:
    """With ``STORAGE_EMULATOR_HOST`` set, talk to the GCS emulator without credentials.

    google-cloud-storage does the same for emulators; without this Beam first spends
    about 25 s retrying to find cloud credentials that an emulator does not need.
    Beam has no public switch for this, so this small adapter sets the cached
    credentials of ``apache_beam.internal.gcp.auth`` to "none" (its private state):
    the one place reelbeam touches Beam internals for it.
    """
    if not os.environ.get("STORAGE_EMULATOR_HOST"):
        return
    from apache_beam.internal.gcp import auth

    auth._Credentials._credentials_init = True
    auth._Credentials._credentials = None
