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


def test_a_project_shows_each_python_file_with_its_own_lines_and_coverage(client, store):
    from webapp.projects import PROJECT_ARTIFACT, Project
    from webapp.store.artifacts import add_artifacts

    files = {"main.py": b"from pkg.util import helper\nhelper(1)\n",
             "pkg/util.py": b"def helper(x):\n    if x > 100:\n        return 'big'\n    return x\n",
             "data/input.csv": b"a,b\n"}
    coverage = {"measured": "a separate run", "line_pct": 83.3, "branch_pct": 50.0, "files": {
        "main.py": {"line_pct": 100.0, "branch_pct": None, "executed_lines": [1, 2], "missing_lines": [], "functions": {}},
        "pkg/util.py": {"line_pct": 75.0, "branch_pct": 50.0, "executed_lines": [1, 2, 4], "missing_lines": [3],
                        "functions": {"helper": {"line_pct": 75.0, "branch_pct": 50.0}}}}}
    report = insert_done_report(store, "main.py")
    with store.writing() as session:
        row = session.get(Report, report.id)
        row.script_source = files["main.py"].decode()
        row.summary = {**row.summary, "coverage": coverage}
        add_artifacts(session, report.id, {PROJECT_ARTIFACT: Project(files, "main.py").to_zip()})
    page = client.get(f"/r/{report.token}").get_data(as_text=True)
    source = page[page.index('<section id="source"'):]
    source = source[:source.index("</section>")]
    assert source.count("<table class=\"src\"") == 2, "the .py files only"
    assert source.index('data-file="main.py"') < source.index('data-file="pkg/util.py"'), "the entry first"
    assert 'id="L2"' in source and 'id="f1-L4"' in source and 'id="L4"' not in source
    assert 'id="f1-L3" class="src-line src-missed"' in source and 'id="f1-L2" class="src-line"' in source
    assert "lines 75.0 % · branches 50.0 % covered" in source
