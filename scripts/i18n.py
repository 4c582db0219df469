"""Update the gettext catalogues and apply translations, under a lock (several people edit them).

    .venv/bin/python scripts/i18n.py [translations.json]

Runs `makemessages` for fr and ja (and en), fills in the French and Japanese translations given in
the JSON file — {"msgid": {"fr": "…", "ja": "…"}, …}, with "msgid\u0004context" keys for
pgettext — and compiles the .mo files, which are committed so that a fresh machine needs no
gettext tools. Prints the msgids that still lack a translation.
"""

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "renewals" / "locale"
LANGS = ("fr", "ja")


def run(*args: str) -> None:
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "renewals"), *args],
        cwd=ROOT / "renewals",
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "renewals.settings"},
    )


def main() -> int:
    translations = {}
    if len(sys.argv) > 1:
        translations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with open("/tmp/renewals-locale.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for domain in ("django",):
            run("makemessages", "-l", "en", "-l", "fr", "-l", "ja", "-d", domain, "--no-obsolete",
                "--ignore=static/*")
        missing = 0
        for lang in LANGS:
            po_path = LOCALE / lang / "LC_MESSAGES" / "django.po"
            po = polib.pofile(str(po_path))
            for entry in po:
                key = f"{entry.msgid}\u0004{entry.msgctxt}" if entry.msgctxt else entry.msgid
                given = translations.get(key, {}).get(lang)
                if given is not None:
                    if entry.msgid_plural:
                        forms = given if isinstance(given, list) else [given]
                        for i in range(len(entry.msgstr_plural) or 1):
                            entry.msgstr_plural[i] = forms[min(i, len(forms) - 1)]
                    else:
                        entry.msgstr = given
                    if "fuzzy" in entry.flags:
                        entry.flags.remove("fuzzy")
                untranslated = not entry.translated() or "fuzzy" in entry.flags
                if untranslated:
                    missing += 1
                    print(f"[{lang}] missing: {entry.msgid[:80]!r}")
            po.save()
        run("compilemessages", "-l", "en", "-l", "fr", "-l", "ja")
    print(f"{missing} translations missing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
