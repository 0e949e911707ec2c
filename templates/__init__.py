"""The Jinja templates of the web app, installed as package ``feedhub.templates``.

A package (not a plain directory) so that ``importlib.resources`` hands back a real
directory for Flask's template loader.
"""
