"""The whole journey in headless Chromium against the live server: a parent
applies online for his newborn's Akta Kelahiran (form, check your answers,
submit), the MPP counter officer verifies and hands it off to Disdukcapil,
the Disdukcapil registrar approves (a birth changes the register: the
registrar's step), a Disdukcapil registry officer records the akta number
(and the NIK and KK number SIAK issued) and attaches the SIAK PDF, and the
parent sees "Terbit" on the tracking page and downloads that very PDF.

Every step goes through the pages (all of them exist); people are signed in
by a session made with Django's test client (`force_login`), whose cookie is
handed to the browser: the log-in page itself is not what this test is about.
"""

import datetime as dt
import re

import pytest
from django.test import Client

from balai.registry.reference import Shdk
from balai.services.models import Application, Status
from balai.services.receipts import receipt_of
from balai.services.tests.conftest import JAHAB, MPP, pdf_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("regions"),
]


def sign_in(page, user) -> None:
    """Give the browser a session of `user` (and only his)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "url": page.balai_url("/")}]
    )


def take_step(page, application, label: str) -> None:
    page.goto(page.balai_url(f"/layanan/petugas/permohonan/{application.pk}/"))
    page.get_by_role("button", name=label).click()
    page.wait_for_load_state()


def test_parent_gets_the_akta_of_his_newborn(
    page, receipts, catalogue, resident, citizen, officer_at, tmp_path
):
    father = resident(village=JAHAB, sex="L", name="Ayah Bayi")
    mother = resident(
        family=father.family,
        village=JAHAB,
        sex="P",
        name="Ibu Bayi",
        shdk=Shdk.ISTRI,
        birth_date=dt.date(1996, 4, 4),
    )
    parent, _ = citizen(father)
    counter_user, _ = officer_at(MPP, "counter_officer")
    registrar_user, _ = officer_at("DISDUKCAPIL", "registrar")
    dukcapil_user, _ = officer_at("DISDUKCAPIL", "registry_officer")

    # 1. The parent fills the form online, checks his answers and submits.
    sign_in(page, parent)
    page.goto(page.balai_url("/layanan/akta-kelahiran/ajukan/"))
    page.select_option("#id_relation", "parent")
    page.fill("#id_f-child_name", "Bayi Perjalanan")
    page.select_option("#id_f-sex", "P")
    page.fill("#id_f-birth_date", (dt.date.today() - dt.timedelta(days=5)).isoformat())
    page.fill("#id_f-birth_place", "Tenggarong")
    page.fill("#id_f-mother_nik", mother.nik)
    if page.locator("#id_f-father_nik").count():
        page.fill("#id_f-father_nik", father.nik)
    page.fill("#id_f-kk_number", father.family.kk_number)
    lahir, kk = tmp_path / "surat-lahir.pdf", tmp_path / "kk.pdf"
    lahir.write_bytes(pdf_bytes("surat lahir"))
    kk.write_bytes(pdf_bytes("kartu keluarga"))
    page.set_input_files("#file_surat_lahir", str(lahir))
    page.set_input_files("#file_kk", str(kk))
    page.get_by_role("button", name="Lanjut: periksa jawaban").click()
    page.wait_for_url(re.compile(r"/layanan/akta-kelahiran/periksa/"))
    assert "Bayi Perjalanan" in page.content()
    page.check("#id_confirm")
    page.get_by_role("button", name="Kirim permohonan").click()
    page.wait_for_url(re.compile(r"/layanan/permohonan/[0-9a-f-]+/$"))
    application = Application.objects.get(applicant_user=parent)
    assert application.channel == "online"
    assert application.number in page.content()
    # The receipt was issued with it and is linked on his page.
    receipt = receipt_of(application)
    assert receipt is not None
    assert f"/dokumen/{receipt.pk}/download" in page.content()

    # 2. The MPP counter officer verifies it and hands it off to Disdukcapil.
    sign_in(page, counter_user)
    take_step(page, application, "Mulai verifikasi")
    take_step(page, application, "Serahkan ke Disdukcapil")
    application.refresh_from_db()
    assert application.status == Status.PROCESSING
    assert application.owner_office.code == "DISDUKCAPIL"

    # 3. The Disdukcapil registrar approves: the child enters the register.
    sign_in(page, registrar_user)
    take_step(page, application, "Setujui")
    application.refresh_from_db()
    assert application.status == Status.APPROVED

    # 4. A Disdukcapil registry officer records what SIAK issued, with the PDF.
    siak_pdf = pdf_bytes("akta kelahiran 6402-LT-27112026-0001 bertanda tangan")
    akta_file = tmp_path / "akta.pdf"
    akta_file.write_bytes(siak_pdf)
    sign_in(page, dukcapil_user)
    page.goto(page.balai_url(f"/layanan/petugas/permohonan/{application.pk}/"))
    page.fill("#issue-number-nik", "6402066011260001")
    page.fill("#issue-number-akta_number", "6402-LT-27112026-0001")
    page.fill("#issue-number-kk_number", father.family.kk_number)
    page.set_input_files("#issue-files", str(akta_file))
    page.locator("form.step:has(input[value=issue]) button[type=submit]").click()
    page.wait_for_load_state()
    application.refresh_from_db()
    assert application.status == Status.ISSUED, page.content()
    assert application.issued_numbers["akta_number"] == "6402-LT-27112026-0001"

    # 5. The parent tracks it, sees "Terbit", and downloads the SIAK PDF.
    sign_in(page, parent)
    page.goto(page.balai_url("/layanan/lacak/"))
    page.fill("#id_nomor", application.number)
    page.fill("#id_kode", application.tracking_code)
    page.get_by_role("button", name="Lacak").click()
    page.wait_for_load_state()
    assert "Terbit" in page.locator("dl.facts").inner_text()
    with page.expect_download() as info:
        page.locator("a[data-siak-document]").first.click()
    downloaded = info.value.path()
    with open(downloaded, "rb") as handle:
        assert handle.read() == siak_pdf
    assert not page.console_errors
