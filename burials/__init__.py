"""Burial records of Russian compatriots in north-east China and abroad, searchable by a
name in any script (docs/burials.md). A domain: no Telegram or web code here."""

from burials.names.query import EmptyQuery
from burials.records import (
    APPROVED,
    PENDING,
    REJECTED,
    RecordError,
    add_photo,
    add_record,
    delete_record,
    get_by_external_id,
    get_record,
    link_relatives,
    pending_records,
    photos_of,
    relatives_of,
    set_status,
    unlink_relatives,
    update_record,
)
from burials.search import Match, search_records

__all__ = [
    "APPROVED",
    "PENDING",
    "REJECTED",
    "EmptyQuery",
    "Match",
    "RecordError",
    "add_photo",
    "add_record",
    "delete_record",
    "get_by_external_id",
    "get_record",
    "link_relatives",
    "pending_records",
    "photos_of",
    "relatives_of",
    "search_records",
    "set_status",
    "unlink_relatives",
    "update_record",
]
