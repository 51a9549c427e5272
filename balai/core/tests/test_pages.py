"""The public pages and the layout: language, accessibility, weight, no CDN."""

import gettext
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import translation

LOCALE_DIR = Path(settings.PACKAGE_DIR) / "locale" / "en" / "LC_MESSAGES"
PAGE_BUDGET = 100 * 1024  # bytes of HTML + CSS + JS for one page, before images


class Page(HTMLParser):
    """Collect what the tests look at in a page: references, labels, scripts."""

    URL_ATTRS = {"src", "href", "action", "srcset", "poster", "data", "formaction"}

    def __init__(self, html: str):
        super().__init__()
        self.urls: list[str] = []
        self.subresources: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self.style_attrs = 0
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.inputs: list[dict] = []
        self.html_lang = None
        self.h1: list[str] = []
        self._in_h1 = False
        self._script_has_src = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if "style" in a:
            self.style_attrs += 1
        for name in self.URL_ATTRS & a.keys():
            for part in (a[name] or "").split(","):
                if part.strip():
                    self.urls.append(part.strip().split(" ")[0])
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "h1":
            self._in_h1 = True
            self.h1.append("")
        elif tag == "link" and "stylesheet" in (a.get("rel") or ""):
            self.subresources.append(a["href"])
        elif tag == "script":
            if a.get("src"):
                self.subresources.append(a["src"])
            elif a.get("type") != "application/json":
                self.inline_scripts += 1
        elif tag == "style":
            self.inline_styles += 1
        elif tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            self.inputs.append(a)

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_h1:
            self.h1[-1] += data

    @property
    def heading(self) -> str:
        return " ".join(self.h1[0].split()) if self.h1 else ""


def page_of(response) -> Page:
    assert response.status_code == 200, response.status_code
    return Page(response.content.decode())


def static_size(url: str) -> int:
    path = finders.find(url.removeprefix(settings.STATIC_URL))
    assert path, f"{url} tidak ditemukan"
    return os.path.getsize(path)


# --- Language -------------------------------------------------------------------


@pytest.mark.django_db
def test_home_is_in_indonesian_with_the_regions_counted(client):
    response = client.get("/")
    page = page_of(response)
    assert page.html_lang == "id"
    assert page.heading == "Layanan publik Kutai Kartanegara, dekat dan daring"
    text = response.content.decode()
    assert "<strong>20</strong> kecamatan" in text
    assert "<strong>193</strong> desa" in text
    assert "<strong>44</strong> kelurahan" in text


@pytest.mark.django_db
def test_an_english_browser_still_gets_indonesian(client):
    """Accept-Language is ignored: Indonesian first, English only when chosen."""
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page_of(response).html_lang == "id"


@pytest.mark.django_db
def test_the_language_switch_gives_english_and_back(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/wilayah/"})
    assert response.status_code == 302
    assert response["Location"] == "/wilayah/"
    page = page_of(client.get("/"))
    assert page.html_lang == "en"
    assert page.heading == "Public services of Kutai Kartanegara, close by and online"
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert page_of(client.get("/")).html_lang == "id"


@pytest.mark.django_db
def test_the_switch_offers_the_other_language(client):
    text = client.get("/").content.decode()
    assert 'name="language" value="en" lang="en"' in text
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    text = client.get("/").content.decode()
    assert 'name="language" value="id" lang="id"' in text


# --- The English catalogue -------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """Read a .po file into entries: msgid, msgid_plural, msgstr(s), flags."""
    entries, entry, key = [], None, None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry or {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = line[1:-1]
            if isinstance(key, int):
                entry["msgstr"][key] += value
            else:
                entry[key] += value
        else:
            word, _, value = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", word)
            key = int(match.group(1)) if match else word
            if word == "msgstr":
                key = 0
            value = value[1:-1]
            if isinstance(key, int):
                entry["msgstr"][key] = value
            else:
                entry[key] = value
    return [e for e in entries if e.get("msgid")]


def unescape(value: str) -> str:
    return value.encode("latin-1", "backslashreplace").decode("unicode_escape")


def test_every_indonesian_msgid_has_an_english_msgstr():
    entries = read_po(LOCALE_DIR / "django.po")
    assert len(entries) > 100
    missing = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not missing, f"belum diterjemahkan: {missing[:10]}"
    assert not fuzzy, f"terjemahan fuzzy: {fuzzy[:10]}"


def test_the_compiled_catalogue_matches_the_po_file():
    """The .mo is committed (a fresh machine may lack gettext): it must be current."""
    with (LOCALE_DIR / "django.mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    for entry in read_po(LOCALE_DIR / "django.po"):
        msgid = unescape(entry["msgid"])
        got = catalog.get((msgid, 0) if "msgid_plural" in entry else msgid)
        assert got == unescape(entry["msgstr"][0]), f"{msgid!r}: jalankan make messages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tidak terpasang")
def test_the_catalogue_has_every_string_of_the_code(tmp_path, monkeypatch):
    """Extract the strings again: a new msgid missing from django.po fails here.

    Runs on a copy of the sources, so the real catalogue is never rewritten.
    """
    source = tmp_path / "balai"
    shutil.copytree(
        settings.PACKAGE_DIR,
        source,
        ignore=shutil.ignore_patterns(
            "locale", "static", "data", "__pycache__", "*.pyc", "*.csv", "*.json"
        ),
    )
    locale = tmp_path / "locale"
    (locale / "en").mkdir(parents=True)
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[locale]):
        call_command("makemessages", locale=["en"], verbosity=0, no_location=True)
    fresh = {e["msgid"] for e in read_po(locale / "en" / "LC_MESSAGES" / "django.po")}
    known = {e["msgid"] for e in read_po(LOCALE_DIR / "django.po")}
    assert not sorted(fresh - known), "jalankan make messages dan isi terjemahannya"


def test_english_is_real_in_python_code_too():
    with translation.override("en"):
        from django.utils.translation import gettext

        assert gettext("Kata sandi") == "Password"
        assert gettext("Ruang petugas") == "Staff area"


# --- Accessibility of the layout ------------------------------------------------


@pytest.mark.django_db
def test_layout_has_skip_link_landmarks_and_one_h1(client):
    text = client.get("/").content.decode()
    page = Page(text)
    assert '<a class="skip" href="#isi">' in text
    assert "isi" in page.ids
    assert '<main id="isi"' in text
    assert re.search(r"<nav aria-label=", text)
    assert len(page.h1) == 1


@pytest.mark.django_db
def test_current_page_is_marked_in_the_menu(client):
    text = client.get("/wilayah/").content.decode()
    assert re.search(r'href="/wilayah/"\s+aria-current="page"', text)


@pytest.mark.django_db
def test_login_form_labels_every_field(client):
    page = page_of(client.get("/akun/masuk/"))
    visible = [i for i in page.inputs if i.get("type") not in ("hidden", "submit")]
    assert len(visible) == 2
    for field in visible:
        assert field["id"] in page.label_for, field


@pytest.mark.django_db
def test_a_bad_login_shows_an_error_summary_linked_to_the_fields(client):
    response = client.post("/akun/masuk/", {"username": "", "password": ""})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="ringkasan-kesalahan"' in text
    assert 'role="alert"' in text
    assert "autofocus" in text
    assert 'href="#id_username"' in text
    assert 'href="#id_password"' in text
    # The field names its error for a screen reader (Django's aria-describedby).
    assert re.search(r'aria-describedby="id_username_error"', text)
    assert 'id="id_username_error"' in text
    assert 'aria-invalid="true"' in text


def test_text_colours_meet_wcag_aa_contrast():
    css = Path(finders.find("balai/balai.css")).read_text()
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
            for c in channels
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        la, lb = sorted((luminance(colours[a]), luminance(colours[b])), reverse=True)
        return (la + 0.05) / (lb + 0.05)

    pairs = [
        ("ink", "bg"),
        ("muted", "bg"),
        ("muted", "soft"),
        ("brand", "bg"),
        ("brand", "soft"),
        ("brand-ink", "brand"),
        ("brand-ink", "brand-dark"),
        ("error", "bg"),
        ("accent", "bg"),
        ("accent", "note"),
        ("ink", "note"),
        ("ink", "focus"),
    ]
    for fg, bg in pairs:
        assert contrast(fg, bg) >= 4.5, (fg, bg, round(contrast(fg, bg), 2))


# --- Light pages, no CDN, CSP -------------------------------------------------------


@pytest.mark.django_db
def test_home_page_weighs_under_100_kb_in_few_requests(client):
    response = client.get("/")
    page = page_of(response)
    assets = [u for u in page.subresources if u.startswith(settings.STATIC_URL)]
    assert assets == page.subresources, "setiap CSS/JS harus dari /static/"
    assert len(assets) <= 3, assets
    total = len(response.content) + sum(static_size(u) for u in assets)
    assert total < PAGE_BUDGET, f"{total} byte"


def assert_no_external_host(text: str, where: str) -> None:
    page = Page(text)
    for url in page.urls:
        parts = urlsplit(url)
        assert parts.scheme in ("", "data", "mailto", "tel"), f"{where}: {url}"
        assert not parts.netloc, f"{where}: {url}"
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), where


@pytest.mark.django_db
def test_no_page_references_an_external_host(client, client_as, make_staff):
    paths = ["/", "/wilayah/", "/akun/masuk/", "/api/v1/docs", "/tidak-ada/"]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert_no_external_host(response.content.decode(), path)
    staff = client_as(make_staff())
    response = staff.get("/akun/petugas/")
    assert response.status_code == 200
    assert_no_external_host(response.content.decode(), "/akun/petugas/")
    for asset in ("balai/balai.css", "balai/balai.js"):
        assert_no_external_host(Path(finders.find(asset)).read_text(), asset)


@pytest.mark.django_db
def test_pages_have_no_inline_script_or_style_and_send_a_csp(client):
    response = client.get("/")
    page = page_of(response)
    assert page.inline_scripts == 0
    assert page.inline_styles == 0
    assert page.style_attrs == 0
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    # htmx would inject an indicator <style> the CSP blocks; balai.css has them.
    assert '"includeIndicatorStyles":false' in response.content.decode()
    assert ".htmx-indicator" in Path(finders.find("balai/balai.css")).read_text()


@pytest.mark.django_db
def test_api_docs_use_local_swagger_without_inline_script(client):
    response = client.get("/api/v1/docs")
    page = page_of(response)
    assert page.inline_scripts == 0
    assert all(u.startswith(settings.STATIC_URL) for u in page.subresources)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    for url in page.subresources:
        static_size(url)  # served from the installed package, not a CDN
    assert client.get("/api/v1/openapi.json").status_code == 200


# --- Error pages and health -------------------------------------------------------


@pytest.mark.django_db
def test_unknown_address_gets_the_indonesian_404_page(client):
    response = client.get("/tidak-ada/")
    assert response.status_code == 404
    assert Page(response.content.decode()).heading == "Halaman tidak ditemukan"


@pytest.mark.parametrize(
    ("template", "heading"),
    [
        ("500.html", "Terjadi kesalahan di server"),
        ("400.html", "Permintaan tidak valid"),
        ("403_csrf.html", "Formulir kedaluwarsa"),
    ],
)
def test_error_pages_render_without_request_or_database(template, heading):
    """Django renders these with no request (and 500 maybe with no database)."""
    page = Page(render_to_string(template))
    assert page.heading == heading
    assert page.html_lang == "id"
    assert page.inputs == []  # no form that would need a CSRF token
    assert_no_external_host(render_to_string(template), template)


@pytest.mark.django_db
def test_an_expired_form_gets_the_indonesian_csrf_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/akun/masuk/", {"username": "x", "password": "y"}
    )
    assert response.status_code == 403
    assert Page(response.content.decode()).heading == "Formulir kedaluwarsa"


@pytest.mark.django_db
def test_healthz_reports_the_database_the_settings_name(client):
    """Guards the CI: the PostgreSQL pass really runs on PostgreSQL."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres", "pgsql")) else "sqlite"
    assert connection.vendor == expected


# --- Staff area and Django admin ------------------------------------------------


@pytest.mark.django_db
def test_staff_area_is_behind_login(client, client_as, make_staff):
    response = client.get("/akun/petugas/")
    assert response.status_code == 302
    assert response["Location"].startswith("/akun/masuk/")
    response = client_as(make_staff()).get("/akun/petugas/")
    assert Page(response.content.decode()).heading == "Ruang petugas"


@pytest.mark.django_db
def test_django_admin_is_for_sysadmins_only(client, client_as, make_staff):
    assert client.get("/admin/").status_code == 302
    officer = client_as(make_staff(role="counter_officer"))
    response = officer.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    officer.logout()
    sysadmin = client_as(make_staff(role="sysadmin", office="DISKOMINFO"))
    response = sysadmin.get("/admin/")
    assert response.status_code == 200
    assert "Administrasi Balai" in response.content.decode()
