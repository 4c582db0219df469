"""Digest emails rendered from frames: each part's template rendered once per kind and language (#15).

A digest (the daily run's notices, R13) is its kind's templates rendered with a purchaser's name
and a list of subscription lines; everything else in it is the same for every purchaser of one
language on one day. So each part (subject, text, HTML) is rendered once per kind, language, day
and number of lines with marks in place of the name and of the list — the list templates
(`emails/lifecycle/list.*`) print a mark, with the flags the kind gave them, when the context
holds `list_mark` — and cut into a frame: literal text, the name (escaped or not, as the template
put it), and the list (rendered per email with the same context the include would have seen).

A part whose marks do not come out exactly (a template using the name through a filter, the
lines outside the list, …) has no frame and is rendered in full every time. Either way the
output is the template's, byte for byte (tests/notifications/test_frames.py compares them).
"""

import re
from datetime import date
from functools import lru_cache

from django.template import Context
from django.template.loader import get_template
from django.utils.html import conditional_escape

# Private-use characters: no translation, name or escaping produces them. The "&" shows whether
# the template escaped the value (HTML) or not (text); the letter, that no filter changed it.
NAME_MARK = "\ue000&n\ue000"
LIST_MARK = "\ue001&\ue001"
MARKS = re.compile("[\ue000-\ue001]")
PIECES = re.compile(
    "\ue000(?P<name>&|&amp;)n\ue000"
    "|\ue001(?P<list>&|&amp;)\ue001(?P<ext>txt|html)(?P<renew>r?)(?P<amount>a?)\ue001(?P=list)\ue001"
)
LIST_TEMPLATES = {"txt": "emails/lifecycle/list-body.txt", "html": "emails/lifecycle/list-body.html"}
DIGEST_KEYS = frozenset({"name", "subscriptions", "today"})


def is_digest(context: dict) -> bool:
    """A digest's context: a name, a list of lines and the day, nothing else."""
    return (
        set(context) <= DIGEST_KEYS
        and isinstance(context.get("name", ""), str)
        and isinstance(context.get("subscriptions"), list)
        and isinstance(context.get("today"), date | None)
    )


def render(template_name: str, values: dict) -> str:
    """Render a digest part; `values` is the whole template context (language, portal_url too).

    Call it with the language of `values["language"]` active.
    """
    frame = _frame(
        template_name,
        values["language"],
        values["portal_url"],
        len(values["subscriptions"]),
        values.get("today"),
        bool(values.get("name")),  # `{% if name %}` (greeting.txt) tells the two apart
    )
    if frame is None:
        return _template(template_name).render(Context(values))
    return "".join(_fill(piece, values) for piece in frame)


def _fill(piece, values: dict) -> str:
    if isinstance(piece, str):
        return piece
    kind, escaped, *rest = piece
    if kind == "name":
        name = values.get("name", "")
        return conditional_escape(name) if escaped else str(name)
    ext, flags = rest
    return _template(LIST_TEMPLATES[ext]).render(Context({**values, **flags}, autoescape=escaped))


class _Lines(list):
    """The lines of a frame: their number can be read, anything else makes the part frameless."""

    touched = False

    def __iter__(self):
        self.touched = True
        return super().__iter__()

    def __getitem__(self, index):
        self.touched = True
        return super().__getitem__(index)


@lru_cache(maxsize=1024)
def _frame(
    template_name: str, language: str, portal_url: str, lines: int, today, named: bool
) -> tuple | None:
    """Render a part with marks and cut it into pieces; None when the marks did not come out."""
    marked = _Lines([None] * lines)
    values = {
        "name": NAME_MARK if named else "",
        "subscriptions": marked,
        "today": today,
        "language": language,
        "portal_url": portal_url,
        "list_mark": LIST_MARK,
    }
    try:
        text = _template(template_name).render(Context(values))
    except Exception:  # a filter given a mark: no frame, the part is rendered in full
        return None
    if marked.touched:  # the lines used outside the list templates
        return None
    pieces: list = []
    end = 0
    for match in PIECES.finditer(text):
        pieces.append(text[end : match.start()])
        if match["name"]:
            pieces.append(("name", match["name"] != "&"))
        else:
            flags = {"renew_link": True} if match["renew"] else {}
            if match["amount"]:
                flags["show_amount"] = True
            pieces.append(("list", match["list"] != "&", match["ext"], flags))
        end = match.end()
    pieces.append(text[end:])
    if any(MARKS.search(piece) for piece in pieces if isinstance(piece, str)):
        return None
    return tuple(piece for piece in pieces if piece != "")


def _template(name: str):
    """The compiled template (the engine's cached loader compiles each template once)."""
    return get_template(name).template
