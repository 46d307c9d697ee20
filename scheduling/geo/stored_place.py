"""A member's stored place, as one key to group by and a label per reader.

A member row keeps `place_id` (a geonames id), `city` (text, as typed or as first shown)
and `zone`. Places with an id are named in each reader's language; rows from before ids
were stored are recognised by their city text where it names a known city in their zone;
what geonames does not know stays as typed; a member without a city is named by the zone.

Keys are plain strings, so the planner can group members by them: 'geo:2037013',
'text:Новая Деревня', 'zone:Asia/Shanghai'.
"""

from __future__ import annotations

from scheduling.geo import places

GEO, TEXT, ZONE = "geo:", "text:", "zone:"
KINDS = (GEO, TEXT, ZONE)


def place_key(
    place_id: int | None, city: str | None, zone: str | None, country: str | None = None
) -> str:
    """The one key of a member's place: members of one city share it, whatever they typed."""
    if place_id is not None and places.place_by_id(place_id) is not None:
        return f"{GEO}{place_id}"
    if city:
        known = _known_city(city, zone, country)
        return f"{GEO}{known}" if known is not None else f"{TEXT}{city}"
    return f"{ZONE}{zone or 'UTC'}"


def _known_city(city: str, zone: str | None, country: str | None) -> int | None:
    """The geonames id of an old row's typed city, if it names a known city in its zone."""
    for match in places.resolve_city(city, country):
        if match.zone == zone and match.geonameid is not None:
            return match.geonameid
    return None


def key_label(key: str, locale: str) -> str:
    """The place a key stands for, in the reader's language ('geo:2037013' -> '哈尔滨')."""
    if key.startswith(GEO) and key[len(GEO) :].isdigit():
        name = places.place_name_by_id(int(key[len(GEO) :]), locale)
        if name:
            return name
    if key.startswith(TEXT):
        return key[len(TEXT) :]
    if key.startswith(ZONE):
        return places.zone_label(key[len(ZONE) :], locale)
    return key  # not a key of ours (a planner roster from a CSV names cities directly)


def place_label(
    place_id: int | None,
    city: str | None,
    zone: str | None,
    locale: str,
    country: str | None = None,
) -> str:
    """A member's place in the reader's language: 'Харбин' / 'Harbin' / '哈尔滨'."""
    if place_id is not None:
        name = places.place_name_by_id(place_id, locale)
        if name:
            return name
    return key_label(place_key(None, city, zone, country), locale)


def group_label(label: str, locale: str, with_others: str) -> str:
    """The planner's label of a group of places ('geo:1 / geo:2 and others') per reader.

    The planner joins the keys of a group's largest places with ' / ' and adds ' and
    others' in English; `with_others` is the reader's form of that, '{places} and others'.
    """
    suffix = " and others"
    more = label.endswith(suffix)
    if more:
        label = label[: -len(suffix)]
    parts: list[str] = []
    for piece in label.split(" / "):
        if parts and not piece.startswith(KINDS):
            parts[-1] += " / " + piece  # a typed name that itself holds ' / '
        else:
            parts.append(piece)
    text = " / ".join(key_label(part, locale) for part in parts)
    return with_others.format(places=text) if more else text
