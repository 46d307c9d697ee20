"""English is the source language: copy each msgid into an empty English msgstr."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "locales/en/LC_MESSAGES/messages.po"


def main() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # plural: English has the same two forms
            if not all(message.string):
                message.string = message.id
        elif not message.string:
            message.string = message.id
    with PO.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, no_location=True, width=100)


if __name__ == "__main__":
    main()
