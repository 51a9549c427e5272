from django.urls import path, re_path

from balai.documents import views

app_name = "documents"

urlpatterns = [
    path("verifikasi", views.verify_page, name="verify"),
    # The QR carries an upper-case URL (QR alphanumeric mode): /V/<payload>.
    re_path(r"^[vV]/(?P<payload>[A-Za-z2-7]{1,2048})/?$", views.verify_link, name="qr"),
    path("dokumen/<str:document_id>/", views.document_detail, name="detail"),
    re_path(
        r"^dokumen/(?P<document_id>[0-9a-f-]{36})/(?P<what>download|print)$",
        views.issued_pdf,
        name="issued-pdf",
    ),
    re_path(
        r"^dokumen/siak/(?P<document_id>[0-9a-f-]{36})/(?P<what>download|print)$",
        views.siak_pdf,
        name="siak-pdf",
    ),
    re_path(
        r"^dokumen/siak/(?P<document_id>[0-9a-f-]{36})/lacak/(?P<token>[A-Za-z0-9_:.-]{1,512})$",
        views.siak_pdf_tracked,
        name="siak-track",
    ),
]
