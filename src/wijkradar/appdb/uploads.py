"""A gemeente's uploads: its own aggregates per wijk or buurt, kept here and never in the warehouse.

An upload is one measure (``own-<key>``) with its values per region and period. Uploading the
same measure again replaces the earlier upload in one transaction; every change moves the
gemeente's plan revision on, so pages built on it are computed again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from wijkradar.appdb.core import now
from wijkradar.appdb.own import OwnData
from wijkradar.appdb.schema import upload_values, uploads
from wijkradar.jsonable import to_jsonable


class Uploads(OwnData):
    """Store and read uploads (they count as a gemeente's own data, like its goals)."""

    def uploads(self, gemeente_code: str) -> list[dict[str, Any]]:
        """Return a gemeente's uploads (without values), in measure order."""
        query = (
            select(uploads).where(uploads.c.gemeente_code == gemeente_code).order_by(uploads.c.measure_key)
        )
        return [to_jsonable(row) for row in self._rows(query)]

    def upload_values(self, gemeente_code: str) -> list[dict[str, Any]]:
        """Return every value of a gemeente's uploads, with its upload's measure key."""
        query = (
            select(
                uploads.c.measure_key,
                upload_values.c.region_code,
                upload_values.c.period,
                upload_values.c.value,
            )
            .join(uploads, uploads.c.upload_id == upload_values.c.upload_id)
            .where(uploads.c.gemeente_code == gemeente_code)
            .order_by(uploads.c.measure_key, upload_values.c.region_code, upload_values.c.period)
        )
        return self._rows(query)

    def store_uploads(self, items: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[bool]:
        """Store uploads (each a record and its values) in one transaction.

        An upload replaces the gemeente's earlier upload of the same measure; the answer says, per
        upload, whether it replaced one.
        """
        replaced = []
        with self.transaction():
            for record, values in items:
                gemeente, key = record["gemeente_code"], record["measure_key"]
                self._changed(gemeente)
                old = self._scalar(
                    select(uploads.c.upload_id).where(
                        (uploads.c.gemeente_code == gemeente) & (uploads.c.measure_key == key)
                    )
                )
                if old is not None:
                    self._drop_upload(int(old))
                new = int(
                    self._scalar(
                        insert(uploads)
                        .values(**record, n_values=len(values), uploaded_at=now())
                        .returning(uploads.c.upload_id)
                    )
                )
                if values:
                    self._insert_many(upload_values, [{**v, "upload_id": new} for v in values])
                replaced.append(old is not None)
        return replaced

    def remove_upload(self, gemeente_code: str, upload_id: int) -> dict[str, Any] | None:
        """Remove one of a gemeente's uploads; return it, or None when it has no such upload."""
        with self.transaction():
            found = self._one(
                select(uploads).where(
                    (uploads.c.gemeente_code == gemeente_code) & (uploads.c.upload_id == upload_id)
                )
            )
            if found is None:
                return None
            self._changed(gemeente_code)
            self._drop_upload(upload_id)
            gone: dict[str, Any] = to_jsonable(found)
            return gone

    def _drop_upload(self, upload_id: int) -> None:
        self._count(delete(upload_values).where(upload_values.c.upload_id == upload_id))
        self._count(delete(uploads).where(uploads.c.upload_id == upload_id))
