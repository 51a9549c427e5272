"""Balai: the digital public-service platform of a regency."""
