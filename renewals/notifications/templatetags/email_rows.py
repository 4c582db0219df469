"""`{% framedfor line in lines %}…{% endframedfor %}`: a loop whose rows render from frames (#15).

An order's confirmation lists its lines (100 in a bulk renewal) with translations, plurals and
escaping per line; rendering that loop node by node was most of the email's cost. This loop
renders its body once per shape of row (language, escaping, and the row's numbers and flags)
with marks for the row's texts, and then only fills the texts in (`notifications.frames`).

The body sees the loop variable and nothing else of the template's context: what it prints
must come from the row (the frame's key holds nothing more). Without frames (a row that is not
a dict, a shape whose frame does not check out) the body is rendered in full with the same
context, so the output is the same either way.
"""

from django import template
from django.utils import translation

from renewals.notifications import frames

register = template.Library()


class FramedForNode(template.Node):
    def __init__(self, name: str, rows, nodelist):
        self.name, self.rows, self.nodelist = name, rows, nodelist
        self.frames: dict = {}  # lives as long as this compiled template (the cached loader's)

    def render(self, context) -> str:
        rows = self.rows.resolve(context, ignore_failures=True) or []
        # What the body's rendering depends on besides the row (context.new keeps them).
        key = (translation.get_language(), context.autoescape, context.use_l10n, context.use_tz)

        def render(row) -> str:
            return self.nodelist.render(context.new({self.name: row}))

        # A node's output is printed as it is (escaped already where the body escapes).
        return "".join(frames.render_row(self.frames, key, row, render) for row in rows)


@register.tag
def framedfor(parser, token):
    """{% framedfor line in lines %}…{% endframedfor %}: the body sees `line` only."""
    bits = token.split_contents()
    if len(bits) != 4 or bits[2] != "in":
        raise template.TemplateSyntaxError("usage: {% framedfor line in lines %}")
    nodelist = parser.parse(("endframedfor",))
    parser.delete_first_token()
    return FramedForNode(bits[1], parser.compile_filter(bits[3]), nodelist)
