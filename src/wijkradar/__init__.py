"""wijkradar: neighbourhood data, risk signals and results monitoring for Dutch gemeenten."""

__version__ = "0.2.0"
