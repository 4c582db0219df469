"""French and Japanese typography of every translated string, read from the compiled catalogues (#17).

French: a no-break space (U+00A0) or narrow no-break space (U+202F) before : ; ? ! and », and
after «; the typographic apostrophe ’; no straight double quotes; no "(s)" plural hacks (the
English source has none either: ngettext says each count). Japanese: full-width ！ and ？,
the full-width colon ：, 、 and 。 rather than ASCII commas and full stops after Japanese text,
「」 rather than western quotes.
Markup, placeholders, code samples and URLs are left out of the check.
"""

import gettext
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

import renewals

LOCALE = Path(renewals.__file__).parent / "locale"
NO_BREAK = "\u00a0\u202f"
MARKUP = re.compile(
    r"<code>.*?</code>|<[^>]*>|&[a-z]+;|%\([a-z_0-9]+\)[sdf]|%[sd]|\{\{[^}]*\}\}|\{[a-z_0-9]*\}"
    r"|https?://\S+",
    re.S,
)
PLURAL_HACK = re.compile(r"\w\((s|e|es|x)\)")
JAPANESE = r"[\u3040-\u30ff\u4e00-\u9fff]"


def _texts(lang: str) -> list[tuple[str, str]]:
    with open(LOCALE / lang / "LC_MESSAGES" / "django.mo", "rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    return [(str(key), value) for key, value in catalog.items() if key and value]


def french_faults(text: str) -> list[str]:
    plain = MARKUP.sub("X", text)
    faults = []
    for match in re.finditer(r"(.)([:;?!»])", plain):
        before, mark = match.groups()
        after = plain[match.end() : match.end() + 2]
        if mark == ":" and (after[:1].isdigit() or after == "//"):
            continue  # 10:30, a URL
        if before not in NO_BREAK:
            faults.append(f"no no-break space before {mark}")
    if re.search(rf"«[^{NO_BREAK}]", plain):
        faults.append("no no-break space after «")
    if "'" in plain:
        faults.append("straight apostrophe")
    if '"' in plain:
        faults.append("straight quotes")
    if PLURAL_HACK.search(plain):
        faults.append("(s) plural")
    return faults


def japanese_faults(text: str) -> list[str]:
    plain = MARKUP.sub("X", text)
    faults = []
    if re.search(r"[!?]", plain):
        faults.append("ASCII ! or ?")
    if re.search(rf"{JAPANESE}:", plain):
        faults.append("ASCII colon")
    if re.search(rf"{JAPANESE}[,.](\s|$)", plain):
        faults.append("ASCII comma or full stop")
    if re.search(r"[\"'“”‘’]", plain):
        faults.append("western quotes")
    if PLURAL_HACK.search(plain):
        faults.append("(s) plural")
    return faults


@pytest.mark.parametrize(
    ("text", "faults"),
    [
        ("Pays\u00a0: %(country)s", []),
        ("Pays : %(country)s", ["no no-break space before :"]),
        ("Pays: France", ["no no-break space before :"]),
        ("Mot de passe oublié ?", ["no no-break space before ?"]),
        ("Mot de passe oublié\u202f?", []),
        ("« Renouveler »", ["no no-break space before »", "no no-break space after «"]),
        ("«\u202fRenouveler\u202f»", []),
        ("Rien n'a été ajouté", ["straight apostrophe"]),
        ("Rien n’a été ajouté", []),
        ("%(count)d facture(s) payée(s)", ["(s) plural"]),
        ("À 10:30, voir https://exemple.fr/x", []),
        ('<a href="/x">Voir</a> <code>Authorization: Bearer &lt;jeton&gt;</code>', []),
    ],
)
def test_the_french_check_finds_each_fault(text, faults):
    assert french_faults(text) == faults


@pytest.mark.parametrize(
    ("text", "faults"),
    [
        ("対応が必要です：%(counter)s 件", []),
        ('"更新" を押してください。', ["western quotes"]),
        ("「更新」を押してください。", []),
        ("対応が必要です: %(counter)s 件", ["ASCII colon"]),
        ("更新しました!", ["ASCII ! or ?"]),
        ("更新しました！", []),
        ("カード, 請求書", ["ASCII comma or full stop"]),
        ("カード、請求書。", []),
    ],
)
def test_the_japanese_check_finds_each_fault(text, faults):
    assert japanese_faults(text) == faults


def test_every_french_string_follows_french_typography():
    faulty = [(key, value, french_faults(value)) for key, value in _texts("fr")]
    assert [f for f in faulty if f[2]] == []


def test_every_japanese_string_follows_japanese_punctuation():
    faulty = [(key, value, japanese_faults(value)) for key, value in _texts("ja")]
    assert [f for f in faulty if f[2]] == []


def test_no_english_source_string_counts_with_a_plural_hack():
    assert [key for key, _v in _texts("fr") if PLURAL_HACK.search(MARKUP.sub("X", key))] == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Subscriptions: SUB-1, SUB-2"),
        ("fr", "Abonnements\u00a0: SUB-1, SUB-2"),
        ("ja", "サブスクリプション：SUB-1、SUB-2"),
    ],
)
def test_labels_and_lists_written_out_in_templates_follow_the_language(lang, expected):
    template = Template(
        '{% load i18n renewals_format %}{% translate "Subscriptions" %}{% colon %}{{ ids|listing }}'
    )
    with translation.override(lang):
        assert template.render(Context({"ids": ["SUB-1", "SUB-2"]})) == expected


TRANSLATED = re.compile(r"\{% blocktranslate.*?\{% endblocktranslate %\}", re.S)


def test_no_email_or_portal_template_puts_a_bare_colon_after_a_label():
    templates = Path(renewals.__file__).parent
    bare = [
        str(path.relative_to(templates))
        for path in templates.rglob("templates/**/*")
        if path.suffix in (".html", ".txt")
        and re.search(r"(%\}|\}\}): ", TRANSLATED.sub("", path.read_text()))
    ]
    assert bare == []


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "2,250"), ("fr", "2\u202f250"), ("ja", "2,250")]
)
def test_counts_are_grouped_as_the_language_writes_them(lang, expected):
    template = Template("{% load renewals_format %}{{ n|number }}")
    with translation.override(lang):
        assert template.render(Context({"n": 2250})) == expected
