"""The report's source view on the server: the script's lines, escaped, with function headers."""

from __future__ import annotations

from sqlalchemy import update

from webapp.store import Report

from .conftest import insert_done_report

SCRIPT_SOURCE = 'import time\n\ndef spin(n):\n    s = "</code><script>alert(1)</script>"\n    return s\n'


def test_the_report_shows_the_script_highlighted_with_its_function_header(client, store):
    report = insert_done_report(store, "busy.py")
    with store.writing() as session:
        session.execute(update(Report).where(Report.id == report.id).values(script_source=SCRIPT_SOURCE))
    page = client.get(f"/r/{report.token}").get_data(as_text=True)
    source = page[page.index('<section id="source"'):]
    source = source[:source.index("</section>")]
    assert source.count('class="src-line"') == 5 and 'id="L5"' in source
    assert '<span class="k">def</span>' in source
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "rank-A" in source and "75.0 % of samples" in source  # the complexity row of spin (line 3)
    assert 'href="/source.css"' in page

    css = client.get("/source.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and ".src-code .k" in css.get_data(as_text=True)
