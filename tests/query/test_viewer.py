"""Viewer links from a URL template: which templates are accepted, and what a hit with or without raw UIDs gets."""

from __future__ import annotations

import pytest

from mri_search.query.run import QueryCfg
from mri_search.query.viewer import check_template, viewer_link
from mri_search.web import ServeCfg

OHIF = "http://pacs/ohif/viewer?StudyInstanceUIDs={study_uid}"
STONE = "https://pacs:8042/stone-webviewer/index.html?study={study_uid}&series={series_uid}"


def test_templates_accepted_and_refused():
    assert check_template(OHIF) == OHIF and check_template(STONE) == STONE
    for bad, why in [("pacs/ohif?s={study_uid}", "http(s) URL"), ("http://pacs/viewer", "{study_uid}"),
                     ("http://pacs/{patient_id}", "not patient_id"), ("http://pacs/{study_uid", "--viewer-url")]:
        with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)").replace("{", r"\{")):
            check_template(bad)
    with pytest.raises(ValueError, match="study_uid"):  # both configs check it where they are made
        QueryCfg(text="knee", viewer_url="http://pacs/{x}")
    with pytest.raises(ValueError, match="study_uid"):
        ServeCfg(viewer_url="ftp://pacs/{study_uid}")


def test_links_need_the_raw_uids_and_are_quoted():
    payload = {"study_uid": "1.2.840.1", "series_uid": "1.2.840.1.7"}
    assert viewer_link(OHIF, payload) == "http://pacs/ohif/viewer?StudyInstanceUIDs=1.2.840.1"
    assert viewer_link(STONE, payload).endswith("study=1.2.840.1&series=1.2.840.1.7")
    assert viewer_link(OHIF, {"study_uid": "a&b=c"}).endswith("=a%26b%3Dc")  # a hostile value stays one parameter
    assert viewer_link(OHIF, {"study_uid": "", "series_uid": "x"}) is None  # indexed without --keep-uids
    assert viewer_link(STONE, {"study_uid": "1.2"}) is None  # the template needs both
    assert viewer_link(None, payload) is None
