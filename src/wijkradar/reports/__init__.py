"""Reports for the council: the "Staat van de gemeente" as self-contained HTML and PDF."""
