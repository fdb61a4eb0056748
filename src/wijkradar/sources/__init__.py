"""Readers for the formats wijkradar ingests, one module per format or publisher.

Every reader turns a file (or an API download folder) into a :class:`~wijkradar.sources.model.Dataset`:
long-form observations keyed by CBS region code, period, measure and population group, plus the
regions, measures and geometries it mentions and the provenance of the whole.
"""
