"""Headless navigation (app/forms/navigation.py): the pages of the bundled FSU, where
leaving a member leads, and the next error after a question."""

from app.forms import FormSession, bundled_form
from app.forms.navigation import (
    next_error,
    next_page_index,
    page_after,
    page_index,
    plan_pages,
    visible_pages,
)


def test_pages_members_and_next_error_without_qt() -> None:
    fd = bundled_form("fsu")
    s = FormSession(fd)
    pages = visible_pages(fd, s, None)
    rosters = [p for p in pages if p.kind == "roster"]
    assert rosters and not any(p.kind == "member" for p in pages)  # no member yet
    rep = rosters[0].path
    s.add_repeat(rep)
    s.add_repeat(rep)
    pages = plan_pages(fd, s, None)
    members = [p for p in pages if p.kind == "member" and p.path.startswith(rep + "[")]
    assert [m.index for m in members] == [1, 2]
    roster_i = page_index(pages, f"roster:{rep}")
    # leaving the last member goes back to its roster; the first goes on to the second
    assert next_page_index(pages, members[-1], +1) == roster_i
    assert next_page_index(pages, members[0], +1) == page_index(pages, members[1].key)
    # "next section" from the roster skips its members
    assert page_after(pages, pages[roster_i], +1) == page_index(pages, members[-1].key) + 1
    # an empty FSU has errors; the next one after the first wraps round at the end
    first = next_error(s)
    assert first is not None
    errors = {i.path for i in s.validate().errors}
    order = list(s.iter_paths())
    assert first == next(p for p in order if p in errors)  # the earliest in form order
    last = order[-1]
    assert next_error(s, last) == first
