from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from balai.accounts.auth import staff_required


@staff_required("counter_officer", "registry_officer", "registrar")
def search(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/search.html", {})
