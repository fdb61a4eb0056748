"""The site's routers: public pages, goals and interventions, and accounts."""
