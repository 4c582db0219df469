"""`{% framedfor line in lines %}…{% endframedfor %}`: a loop whose rows render from frames (#15).

An order's confirmation lists its lines (100 in a bulk renewal) with translations, plurals and
escaping per line; rendering that loop node by node was most of the email's cost. This loop
renders its body once per shape of row (language, escaping, and the row's numbers and flags)
with marks for the row's texts, and then only fills the texts in (`notifications.frames`).

The body sees the loop variable and nothing else of the template's context: what it prints
must come from the row (the frame's key holds nothing more). Frames are used only for a body
made of what prints a row's texts unchanged (`frameable`): text, variables without filters
(or `safe`), translations of constants, `blocktranslate` of plain variables, `{% if %}` on a
variable's truth and `{% colon %}`; any other body — a filter, a comparison, a tag of another
kind — is rendered in full for every row, like a row that is not a dict or a shape whose frame
does not check out. The output is then the plain loop's.
"""

from django import template
from django.template.base import TextNode, VariableNode
from django.template.defaulttags import IfNode, LoadNode, TemplateLiteral
from django.template.library import SimpleNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils import timezone, translation

from renewals.core.templatetags.renewals_format import colon
from renewals.notifications import frames

register = template.Library()


def frameable(nodelist) -> bool:
    """Does this body print its row's texts only as they are (so a frame's marks stand for them)?"""
    for node in nodelist.get_nodes_by_type(template.Node):
        if isinstance(node, TextNode | LoadNode):
            continue
        if isinstance(node, VariableNode):
            if not _plain(node.filter_expression, {"safe"}):
                return False
        elif isinstance(node, TranslateNode):
            var = node.filter_expression.var
            if (
                getattr(var, "lookups", None) is not None
                or node.asvar
                or node.filter_expression.filters
            ):
                return False  # a constant only: a row's text is not looked up in the catalogue
        elif isinstance(node, BlockTranslateNode):
            used = [*node.extra_context.values(), *([node.counter] if node.counter else [])]
            if node.asvar or not all(_plain(f, set()) for f in used):
                return False
        elif isinstance(node, IfNode):
            for condition, _nodelist in node.conditions_nodelists:
                if condition is not None and not (
                    isinstance(condition, TemplateLiteral) and _plain(condition.value, set())
                ):
                    return False  # a comparison would see the marks, not the texts
        elif not (
            isinstance(node, SimpleNode) and node.func is colon and not (node.args or node.kwargs)
        ):
            return False
    return True


def _plain(expression, allowed: set) -> bool:
    return all(func.__name__ in allowed for func, _args in expression.filters)


class FramedForNode(template.Node):
    def __init__(self, name: str, rows, nodelist):
        self.name, self.rows, self.nodelist = name, rows, nodelist
        self.framed = frameable(nodelist)
        self.frames: dict = {}  # lives as long as this compiled template (the cached loader's)

    def render(self, context) -> str:
        rows = self.rows.resolve(context, ignore_failures=True) or []

        def render(row) -> str:
            return self.nodelist.render(context.new({self.name: row}))

        if not self.framed:
            return "".join(render(row) for row in rows)
        # What the body's rendering depends on besides the row (context.new keeps them).
        key = (
            translation.get_language(),
            timezone.get_current_timezone_name(),
            context.autoescape,
            context.use_l10n,
            context.use_tz,
        )
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
