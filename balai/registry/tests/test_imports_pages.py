"""Import pages: upload (a background task, run inline in tests), progress,
the report, the template; who may use them."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from balai.registry.imports.layouts import BALAI_TEMPLATE_HEADER
from balai.registry.models import Resident
from balai.registry.models_digitisation import ImportJob, JobStatus
from balai.registry.tests.digitisation_helpers import one_family, siak_table, write_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(client):
    """A client logged in as a user through Django's own backend."""

    def login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login


@pytest.fixture
def officer(make_staff):
    return make_staff(office="DISDUKCAPIL", role="registry_officer")


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST, then run what waits for the commit (the background task)."""

    def send(client, url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return send


def siak_upload(tmp_path, rows=None, name="siak.csv"):
    path = write_rows(tmp_path / name, rows or siak_table([one_family()]))
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("registry:import-list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_counter_officer_may_not_import(client_as, make_staff, tmp_path):
    counter = make_staff(office="MPP-64.02.06", role="counter_officer")
    client = client_as(counter)
    assert client.get(reverse("registry:import-list")).status_code == 403
    response = client.post(
        reverse("registry:import-list"),
        {"berkas": siak_upload(tmp_path), "format": "auto"},
    )
    assert response.status_code == 403
    assert not Resident.objects.exists()


def test_upload_runs_the_import_and_shows_progress_and_report(
    client_as, officer, tmp_path, post
):
    client = client_as(officer)
    assert client.get(reverse("registry:import-list")).status_code == 200
    rows = siak_table([one_family()])
    rows[3][1] = "123"  # an impossible NIK
    response = post(
        client,
        reverse("registry:import-list"),
        {"berkas": siak_upload(tmp_path, rows), "format": "auto"},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:import-job", args=[job.pk])
    # The task ran when the request's transaction committed (ImmediateBackend).
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert (job.imported, job.rejected) == (2, 1)
    assert Resident.objects.count() == 2
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Selesai" in page.content.decode()
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert 'id="kemajuan"' in fragment.content.decode()
    assert "hx-trigger" not in fragment.content.decode()  # finished: no polling
    report = client.get(reverse("registry:import-report", args=[job.pk]))
    assert report["Content-Type"].startswith("text/csv")
    lines = list(
        csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig")))
    )
    assert lines[1][0] == "4"
    assert lines[1][1] == "NIK"


def test_the_same_file_twice_is_not_imported_twice(client_as, officer, tmp_path, post):
    client = client_as(officer)
    for _attempt in range(2):
        post(
            client,
            reverse("registry:import-list"),
            {"berkas": siak_upload(tmp_path), "format": "auto"},
        )
    assert ImportJob.objects.count() == 1
    assert Resident.objects.count() == 3


def test_dry_run_from_the_page(client_as, officer, tmp_path, post):
    client = client_as(officer)
    post(
        client,
        reverse("registry:import-list"),
        {"berkas": siak_upload(tmp_path), "format": "auto", "uji": "on"},
    )
    job = ImportJob.objects.get()
    assert job.dry_run
    assert job.status == JobStatus.DONE
    assert job.imported == 3
    assert not Resident.objects.exists()


def test_a_wrong_file_is_refused_on_the_spot(client_as, officer):
    client = client_as(officer)
    response = client.post(
        reverse("registry:import-list"),
        {
            "berkas": SimpleUploadedFile("a.csv", b"kolom,lain\n1,2\n"),
            "format": "auto",
        },
    )
    assert response.status_code == 200
    assert "Format berkas tidak dikenali" in response.content.decode()
    assert not ImportJob.objects.exists()


@override_settings(BALAI_IMPORT_MAX_UPLOAD_BYTES=200)
def test_a_file_over_the_page_limit_is_refused(client_as, officer, tmp_path):
    client = client_as(officer)
    response = client.post(
        reverse("registry:import-list"),
        {"berkas": siak_upload(tmp_path), "format": "auto"},
    )
    assert response.status_code in (200, 413)
    assert "terlalu besar" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_template_is_served_and_documented(client, client_as, officer):
    response = client.get(reverse("registry:import-template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(header) == BALAI_TEMPLATE_HEADER
    help_page = client_as(officer).get(reverse("registry:import-help"))
    assert help_page.status_code == 200
    assert "kode_desa" in help_page.content.decode()
