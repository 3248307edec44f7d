"""The API's JSON parser: a body nested deeper than any endpoint needs is a 400, never a 500
(and never a walk that recurses once per level)."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 100  # schema documents nest at most 64 levels, inside a body of a few more


def depth_exceeds(value, limit: int) -> bool:
    """Whether ``value`` nests objects and arrays more than ``limit`` levels (iteratively)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    """JSON bodies nested at most ``MAX_DEPTH`` levels; deeper is 400 ``parse_error``."""

    def parse(self, stream, media_type=None, parser_context=None):
        message = f"JSON parse error - the body nests too deep (at most {MAX_DEPTH} levels)."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(message)
        return data
