"""The wijkradar web app: server-rendered pages with their data at the same path as JSON/CSV/GeoJSON."""
