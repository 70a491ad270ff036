"""Request body parsers of the REST API."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

# rest_framework.views reads DEFAULT_PARSER_CLASSES while it is being imported: this module must not
# import it (semantik.api does), or the import would be circular.


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with JSON nested deeper than Python's parser follows (`[[[[...]]]]`) a 400
    like any other unreadable body: the parser raises RecursionError there, which DRF lets through."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from exc
