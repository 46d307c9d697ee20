"""Chinese typography in the catalogs: full-width punctuation, no «» quotes, and no ASCII
space after a full stop or inside a sentence around a date or a time."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from ground.i18n import LOCALES_DIR

CJK = r"[\u3400-\u9fff]"
DATE_LIKE = r"\{(?:when|clock|day|date|days|old|new|month)\}"


def _chinese_strings() -> list[tuple[str, str]]:
    with (LOCALES_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    found = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        found += [(msgid, form) for form in forms]
    return found


RULES = {
    "«» quotes (use “” or 《》)": r"[«»]",
    "ASCII space after full-width punctuation": r"[。！？，：；] ",
    "ASCII punctuation next to Chinese": CJK + r"[,:;!?]|[,:;!?]" + CJK,
    "ASCII brackets next to Chinese": CJK + r" ?\(|\) ?" + CJK,
    "ASCII space inside a sentence around a date": CJK
    + " "
    + DATE_LIKE
    + "|"
    + DATE_LIKE
    + " "
    + CJK,
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_chinese_catalog_keeps_chinese_typography(rule: str) -> None:
    pattern = re.compile(RULES[rule])
    broken = [(msgid, text) for msgid, text in _chinese_strings() if pattern.search(text)]
    assert not broken, f"{rule}: {broken[:3]}"
