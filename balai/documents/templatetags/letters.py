"""Filters available in every letter template without `{% load %}`."""

from django import template

from balai.documents.render import format_nip, tanggal

register = template.Library()

register.filter("tanggal", tanggal)
register.filter("nip", format_nip)


@register.filter
def get(mapping, key):
    """`{{ facts|get:"nama usaha" }}`: a key with spaces or dashes."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
