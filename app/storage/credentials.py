"""Reads and writes of API keys and users. Keys are looked up by their HMAC digest only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.errors import ApiKeyNotFoundError, UserExistsError
from app.storage.database import Database
from app.storage.tables import ApiKeyRow, UserRow, utcnow

TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is a hint, not an audit log: one write a minute per key


class CredentialRepository:
    def __init__(self, db: Database):
        self.db = db

    # -- API keys ---------------------------------------------------------------------------------
    def add_key(self, row: ApiKeyRow) -> ApiKeyRow:
        with self.db.session() as s, s.begin():
            s.add(row)
        return row

    def key_by_digest(self, digest: str) -> ApiKeyRow | None:
        with self.db.session() as s:
            return s.scalar(select(ApiKeyRow).where(ApiKeyRow.digest == digest))

    def get_key(self, key_id: str) -> ApiKeyRow:
        with self.db.session() as s:
            row = s.get(ApiKeyRow, key_id)
        if row is None:
            raise ApiKeyNotFoundError(key_id)
        return row

    def list_keys(self, include_revoked: bool = False) -> list[ApiKeyRow]:
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
        if not include_revoked:
            query = query.where(ApiKeyRow.revoked_at.is_(None))
        with self.db.session() as s:
            return list(s.scalars(query))

    def revoke_key(self, key_id: str) -> ApiKeyRow:
        with self.db.session() as s, s.begin():
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise ApiKeyNotFoundError(key_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
        return row

    def touch_key(self, row: ApiKeyRow) -> None:
        now = utcnow()
        last = row.last_used_at  # timestamps come back aware (UtcDateTime)
        if last is not None and now - last < TOUCH_EVERY:
            return
        with self.db.session() as s, s.begin():
            s.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(last_used_at=now))

    def has_admin_key(self) -> bool:
        now = utcnow()
        for row in self.list_keys():
            expires = row.expires_at
            if "admin" in row.permissions and (expires is None or expires > now):
                return True
        return False

    # -- users ------------------------------------------------------------------------------------
    def add_user(self, row: UserRow) -> UserRow:
        try:
            with self.db.session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            raise UserExistsError(f"User '{row.username}' already exists", {"username": row.username}) from None
        return row

    def user_by_name(self, username: str) -> UserRow | None:
        with self.db.session() as s:
            return s.scalar(select(UserRow).where(UserRow.username == username))

    def get_user(self, user_id: str) -> UserRow | None:
        with self.db.session() as s:
            return s.get(UserRow, user_id)

    def list_users(self) -> list[UserRow]:
        with self.db.session() as s:
            return list(s.scalars(select(UserRow).order_by(UserRow.created_at)))

    def set_user_disabled(self, username: str, disabled: bool) -> UserRow | None:
        with self.db.session() as s, s.begin():
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            if row is not None:
                row.disabled = int(disabled)
        return row
