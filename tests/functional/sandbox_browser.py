"""A scripted browser for the sandbox tests: ``requests`` with a cookie jar that follows redirects
and submits a page's form the way a browser would (hidden and filled-in fields, checked boxes)."""

from __future__ import annotations

from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup


class Browser:
    def __init__(self):
        self.session = requests.Session()

    def get(self, url: str) -> requests.Response:
        return self.session.get(url, timeout=30)

    def submit(self, page: requests.Response, *, uncheck=(), **values) -> requests.Response:
        """Submit the page's first form; ``values`` replace fields, ``uncheck`` clears checkboxes."""
        form = BeautifulSoup(page.text, "html.parser").find("form")
        assert form is not None, f"no form on {page.url}: {page.text[:500]}"
        fields = {}
        for element in form.find_all(["input", "select"]):
            name = element.get("name")
            if not name:
                continue
            if element.name == "select":
                chosen = element.find("option", selected=True) or element.find("option")
                fields[name] = chosen.get("value")
            elif element.get("type") == "checkbox":
                if element.has_attr("checked") and name not in uncheck:
                    fields[name] = element.get("value", "on")
            else:
                fields[name] = element.get("value", "")
        fields.update(values)
        action = urljoin(page.url, form.get("action") or page.url)
        assert (form.get("method") or "get").lower() == "post"
        return self.session.post(action, data=fields, timeout=30)
