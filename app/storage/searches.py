"""Reads and writes of finished parameter searches (one row per Tune experiment name)."""

from __future__ import annotations

from typing import Any

from app.storage.database import Database, json_safe
from app.storage.tables import SearchRow


class SearchRepository:
    def __init__(self, db: Database):
        self.db = db

    def save(
        self,
        search_id: str,
        model_name: str,
        objective: str,
        strategy: str,
        result: dict[str, Any],
        provenance: dict[str, Any],
    ) -> None:
        """Store (or replace, after a resumed run) a search's outcome."""
        with self.db.session() as s, s.begin():
            row = s.get(SearchRow, search_id)
            if row is None:
                s.add(
                    SearchRow(
                        id=search_id,
                        model_name=model_name,
                        objective=objective,
                        strategy=strategy,
                        result=json_safe(result),
                        provenance=json_safe(provenance),
                    )
                )
            else:
                row.result, row.provenance = json_safe(result), json_safe(provenance)

    def get(self, search_id: str) -> SearchRow | None:
        with self.db.session() as s:
            return s.get(SearchRow, search_id)
