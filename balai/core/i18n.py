"""Language choice: Bahasa Indonesia first, English only when chosen."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class IndonesianFirstMiddleware:
    """Serve Bahasa Indonesia unless the visitor picked English with the switch.

    Many phones in Kukar are set to English while their owners read Indonesian,
    so the browser's Accept-Language is ignored; the language cookie set by the
    switch (`/i18n/setlang/`) is what counts. Place it before LocaleMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
