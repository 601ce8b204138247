"""First start: make sure someone can get in.

When no usable admin key exists, one is created and written to
``<data_dir>/admin.key`` (mode 0600), the way a notebook server hands out its
token: whoever can read the data directory can administer the gateway.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.config import Settings
from app.security.keys import ApiKeys, server_secret, write_private_file
from app.storage.credentials import CredentialRepository
from app.storage.database import Database, get_database

ADMIN_KEY_FILE = "admin.key"


def ensure_admin_key(settings: Settings, db: Database | None = None) -> tuple[Path, bool]:
    """(path of the admin key file, whether a new key was created just now)."""
    settings.ensure_dirs()
    store = CredentialRepository(db or get_database(settings.resolved_database_url))
    path = settings.data_dir / ADMIN_KEY_FILE
    if store.has_admin_key():
        return path, False
    keys = ApiKeys(store, server_secret(settings), list(settings.rate_limit_tiers))
    top_tier = list(settings.rate_limit_tiers)[-1]
    _, key = keys.create("admin (first start)", ["admin"], tier=top_tier, created_by="bootstrap")
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.unlink(missing_ok=True)
    write_private_file(staging, key + "\n")
    os.replace(staging, path)  # atomic: readers see the old file or the new one, never half of one
    return path, True
