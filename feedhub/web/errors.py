"""Error answers that say what went wrong, in the form the caller reads.

JSON under ``/api``; an HTML page for clients that take HTML (browsers); plain text
for the others (``feedhub export``, scripts). Messages are feedhub's own (``abort(…, description=…)``)
and never quote a source URL.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _answer)


def _answer(error: HTTPException) -> Response:
    # Keep the headers the error carries (Allow on a 405), not its HTML body's type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if request.path == "/api" or request.path.startswith("/api/"):
        response = jsonify(error={"status": error.code, "title": error.name, "message": error.description})
    else:
        if request.accept_mimetypes.accept_html:
            response = Response(render_template("error.html", error=error), content_type="text/html; charset=utf-8")
        else:
            text = f"{error.code} {error.name}: {error.description}\n"
            response = Response(text, content_type="text/plain; charset=utf-8")
        response.vary.add("Accept")
    response.status_code = error.code
    response.headers.extend(headers)
    return response
