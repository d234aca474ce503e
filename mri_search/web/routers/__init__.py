"""One router per resource: ``search`` (text, image and "more like this" searches, facets, CSV), ``series`` (a
series' record and images), ``health``, ``pages`` (the HTML page)."""
