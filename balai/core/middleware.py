"""Request logging and the page rendering of `BalaiError`."""

import logging
import time

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from balai.core.errors import BalaiError

log = logging.getLogger("balai.request")


class RequestLogMiddleware:
    """Log one structured line per request: method, path, status, duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


class BalaiErrorMiddleware:
    """Show a `BalaiError` escaping a page view as a clear page in Indonesian."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, BalaiError):
            return None
        return render(
            request,
            "core/error.html",
            {"error": exception},
            status=exception.status_code,
        )
