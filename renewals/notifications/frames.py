"""Digest emails rendered from frames: each template rendered once per kind and language (#15).

A digest (the daily run's notices, R13) is its kind's templates rendered with a purchaser's name
and a list of subscription lines; the rest is the same for every purchaser of one language on
one day. So each template is rendered once with marks — private-use characters no translation,
name or escaping produces — in place of what varies, and cut into a frame of literal text and
holes; each email then only fills the holes. Three levels:

- a part (subject, text, HTML) of a kind, per language, day and number of lines: holes for the
  name and for the list (`emails/lifecycle/list.*` print a mark with the kind's flags when the
  context holds `list_mark`);
- the list (`list-body.*`), per flags and number of lines: a hole per row (`row_mark`);
- a row (`row.*`), per line content but its texts (id, product, card): holes for each text as
  the template printed it (escaped, raw or in a URL); dates, amounts and numbers are the key.

A frame is kept only if its marks come out whole and filling it with the email it was made for
gives exactly the template's own rendering; otherwise that template is rendered in full, every
time. Either way the output is the template's, byte for byte (tests/notifications/test_frames.py).

`render_row` does the same for one row of any loop written `{% framedfor %}` (templatetags/
email_rows.py: the lines of an order's emails, tests/notifications/test_email_rows.py).
"""

import html
import re
from datetime import date, datetime
from decimal import Decimal

from django.template import Context
from django.template.defaultfilters import urlencode
from django.template.loader import get_template
from django.utils.html import conditional_escape

NAME_MARK = "\ue000&n\ue000"  # the "&" shows whether it was escaped, the letter that no filter
LIST_MARK = "\ue001&\ue001"  # changed it
ROW_MARK = "\ue002&r\ue002"
FIELD_MARKS = [f"\ue003&{letter}\ue003" for letter in "abcdefghijklmnopqrstuvwxyz"]
PIECES = re.compile(
    "\ue000(?P<name>&|&amp;)n\ue000"
    "|\ue001(?P<list>&|&amp;)\ue001(?P<ext>txt|html)(?P<renew>r?)(?P<amount>a?)\ue001(?P=list)\ue001"
    "|\ue002(?P<row>&|&amp;)r\ue002"
    "|\ue003(?P<field>&|&amp;)(?P<letter>[a-z])\ue003|%EE%80%83%26(?P<url>[a-z])%EE%80%83"
)
LEFTOVER = re.compile("[\ue000-\ue003]|%EE%80%8")
DIGEST_KEYS = frozenset({"name", "subscriptions", "today"})
LIMIT = 4096  # frames kept (a day's digests need a few hundred)

_frames: dict = {}  # for the process's life, as the cached template loader's templates
_NONE_YET = object()
# The values besides texts a row may hold to render from a frame: their repr says their value.
KEY_TYPES = frozenset({int, bool, float, Decimal, date, datetime, type(None)})


def is_digest(context: dict) -> bool:
    """A digest's context: a name, a list of lines and the day, nothing else."""
    return (
        set(context) <= DIGEST_KEYS
        and isinstance(context.get("name", ""), str)
        and isinstance(context.get("subscriptions"), list)
        and isinstance(context.get("today"), date | None)
    )


def render(template_name: str, values: dict) -> str:
    """Render a part of a digest; `values` is its whole context (with language and portal_url).

    Call it with the language of `values["language"]` active.
    """
    lines = len(values["subscriptions"])
    key = ("part", template_name, lines, *_same_for_the_day(values))
    marks = {"name": NAME_MARK, "subscriptions": _Lines([None] * lines), "list_mark": LIST_MARK}
    return _render(key, template_name, values, lambda: marks, escaped=True)


def _same_for_the_day(values: dict) -> tuple:
    """What a frame depends on besides its marks and its own key."""
    return (
        values["language"],
        values["portal_url"],
        values.get("today"),
        bool(values.get("name")),  # `{% if name %}` (greeting.txt) tells the two apart
    )


def _render_list(ext: str, escaped: bool, flags: dict, values: dict) -> str:
    lines = values["subscriptions"]
    key = ("list", ext, escaped, tuple(flags), len(lines), *_same_for_the_day(values))
    values = {**values, **flags, "_ext": ext}
    marks = {"name": NAME_MARK, "subscriptions": [None] * len(lines), "row_mark": ROW_MARK}
    return _render(key, f"emails/lifecycle/list-body.{ext}", values, lambda: marks, escaped=escaped)


def _render_row(ext: str, escaped: bool, values: dict) -> str:
    line = values["s"]
    name = f"emails/lifecycle/row.{ext}"
    if not isinstance(line, dict) or len(line) > len(FIELD_MARKS):
        return _template(name).render(Context(values, autoescape=escaped))
    texts = sorted(k for k, v in line.items() if isinstance(v, str))
    content = tuple(
        (k, str, bool(v)) if k in texts else (k, type(v), repr(v)) for k, v in sorted(line.items())
    )
    flags = (values.get("renew_link"), values.get("show_amount"))
    lines = len(values["subscriptions"])
    key = ("row", ext, escaped, flags, content, lines, *_same_for_the_day(values))
    values = {**values, "_texts": [line[k] for k in texts]}

    def marks():
        return {
            "name": NAME_MARK,
            "subscriptions": _Lines([None] * lines),
            "s": {**line, **{k: FIELD_MARKS[i] if line[k] else "" for i, k in enumerate(texts)}},
        }

    return _render(key, name, values, marks, escaped=escaped)


def _render(key, template_name: str, values: dict, marks, *, escaped: bool) -> str:
    """Fill the frame of `key`, made the first time from `marks()` over `values`."""
    frame = _frames.get(key, _NONE_YET)  # one read: another thread may clear the dict meanwhile
    if frame is _NONE_YET:
        if len(_frames) >= LIMIT:
            _frames.clear()
        frame = _frames[key] = _made(template_name, values, marks(), escaped=escaped)
    if frame is None:
        return _template(template_name).render(Context(values, autoescape=escaped))
    return "".join(_fill(piece, values, escaped) for piece in frame)


class _Lines(list):
    """The lines of a part's frame: their number can be read, anything else makes it frameless."""

    touched = False

    def __iter__(self):
        self.touched = True
        return super().__iter__()

    def __getitem__(self, index):
        self.touched = True
        return super().__getitem__(index)


def _made(template_name: str, values: dict, marks: dict, *, escaped: bool) -> tuple | None:
    """Render with marks and cut into pieces; None unless it gives the template's own output."""
    template = _template(template_name)
    try:
        text = template.render(Context({**values, **marks}, autoescape=escaped))
    except Exception:  # a filter given a mark: no frame, the template is rendered in full
        return None
    lines = marks.get("subscriptions")
    if isinstance(lines, _Lines) and lines.touched:  # the lines used outside the list
        return None
    frame = tuple(_cut(text))
    if any(isinstance(p, str) and LEFTOVER.search(p) for p in frame):
        return None
    full = template.render(Context(values, autoescape=escaped))
    return frame if "".join(_fill(p, values, escaped) for p in frame) == full else None


def _cut(text: str):
    end, rows = 0, 0
    for match in PIECES.finditer(text):
        if match.start() > end:
            yield text[end : match.start()]
        end = match.end()
        if match["name"]:
            yield ("name", match["name"] != "&")
        elif match["list"]:
            flags = {"renew_link": True} if match["renew"] else {}
            if match["amount"]:
                flags["show_amount"] = True
            yield ("list", match["list"] != "&", match["ext"], flags)
        elif match["row"]:
            yield ("row", match["row"] != "&", rows)
            rows += 1
        elif match["url"]:
            yield ("field", "url", ord(match["url"]) - ord("a"))
        else:
            yield (
                "field",
                "html" if match["field"] != "&" else "text",
                ord(match["letter"]) - ord("a"),
            )
    if end < len(text):
        yield text[end:]


def _fill(piece, values: dict, escaped: bool) -> str:
    if isinstance(piece, str):
        return piece
    kind = piece[0]
    if kind == "name":
        name = values.get("name", "")
        return conditional_escape(name) if piece[1] else str(name)
    if kind == "list":
        return _render_list(piece[2], piece[1], piece[3], values)
    if kind == "row":
        line = values["subscriptions"][piece[2]]
        return _render_row(values["_ext"], piece[1], {**values, "s": line})
    text = values["_texts"][piece[2]]  # the line's texts in the order of their marks
    return {"url": urlencode, "html": conditional_escape, "text": str}[piece[1]](text)


def render_row(frames: dict, key: tuple, row, render) -> str:
    """Render one row of a loop, `render(row)`, from the frame of its shape kept in `frames`.

    `render` must depend on nothing but `row` and `key` (the template tag gives it the row
    alone, and puts the language and the escaping in `key`). The row's texts are marks in the
    frame and its other values (numbers, flags, dates) part of the frame's key; a row that is
    not a dict of at most 26 values, or whose frame does not give its own rendering, is
    rendered in full. The texts are only printed, never compared or filtered: a filter that
    changes a mark leaves no frame (e.g. `upper`), and the first row of each shape is checked.
    """
    if not isinstance(row, dict) or len(row) > len(FIELD_MARKS):
        return render(row)
    if any(not isinstance(v, str) and type(v) not in KEY_TYPES for v in row.values()):
        return render(row)  # a value whose repr may not say what it prints (an address)
    texts = [k for k, v in row.items() if isinstance(v, str)]
    shape = tuple(
        (k, type(v), bool(v)) if isinstance(v, str) else (k, type(v), repr(v))
        for k, v in row.items()
    )
    full_key = (*key, shape)
    frame = frames.get(full_key, _NONE_YET)  # one read: another thread may clear it meanwhile
    if frame is _NONE_YET:
        if len(frames) >= LIMIT:
            frames.clear()
        frame = frames[full_key] = _made_row(row, texts, render)
    if frame is None:
        return render(row)
    values = [row[k] for k in texts]
    return "".join(
        piece if piece.__class__ is str else _PRINTED[piece[1]](values[piece[2]]) for piece in frame
    )


def _escaped(text) -> str:
    """conditional_escape without its lazy-string wrapper: the same text, faster (#15)."""
    return text.__html__() if hasattr(text, "__html__") else html.escape(str(text))


_PRINTED = {"html": _escaped, "text": str, "url": urlencode}


def _made_row(row: dict, texts: list, render) -> tuple | None:
    marked = {**row, **{k: FIELD_MARKS[i] if row[k] else "" for i, k in enumerate(texts)}}
    try:
        text = render(marked)
    except Exception:  # a filter given a mark: no frame, the row is rendered in full
        return None
    frame = tuple(_cut(text))
    if any(isinstance(p, str) and LEFTOVER.search(p) for p in frame):
        return None
    if any(not isinstance(p, str) and p[0] != "field" for p in frame):
        return None
    values = {"_texts": [row[k] for k in texts]}
    filled = "".join(_fill(piece, values, True) for piece in frame)
    return frame if filled == render(row) else None


def _template(name: str):
    """The compiled template (the engine's cached loader compiles each template once)."""
    return get_template(name).template
