"""Page data and chart specs: what the web app and the report both show, below both of them.

``views`` collects the data of each page (plain dicts and lists, JSON-ready); ``charts`` turns
them into Plotly figure specs. Neither knows about HTTP, templates or PDF.
"""
