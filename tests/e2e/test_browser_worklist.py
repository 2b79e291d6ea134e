"""Working the list in a real browser: the filter goes into the address (never the search) and a reload keeps it;
several rows picked, the confirmation counts them; axe finds nothing serious with the actions and the dialog open."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.e2e.test_browser_hub import add_user, insert, settle_hub, sign_in
from tests.support.postgres import database, hub_factory, postgres  # noqa: F401 (fixtures)
from tests.support.screens import serious_accessibility_problems

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def hub(hub_factory, database):  # noqa: F811
    add_user(database, 'pal@slmpd.org', 'coordinator', 'pal')
    return hub_factory()


def test_the_filter_goes_into_the_address_without_the_search_and_survives_a_reload(page, hub, database):  # noqa: F811
    mine = insert(database, 'lobby-a', 'pal', 'Paula Palmer')
    insert(database, 'lobby-a', 'pal', 'Pat Other')
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE signups SET assigned_to = 'pal@slmpd.org' WHERE id = %s", (mine,))
    sign_in(page, hub, 'pal@slmpd.org')
    page.get_by_text('Paula Palmer').wait_for()
    settle_hub(page)
    page.get_by_label('Assigned', exact=True).click()
    page.get_by_role('option', name='Mine').click()
    page.get_by_label('Name or phone').fill('Paula')
    page.get_by_role('button', name='Show').click()
    page.wait_for_function('location.search.includes("assigned=me")')
    assert parse_qs(urlsplit(page.url).query) == {'assigned': ['me']}, 'the search is never in the address'
    assert 'Paula' not in page.url
    page.reload()
    page.get_by_text('Paula Palmer').wait_for()
    settle_hub(page)
    assert page.get_by_text('Pat Other').count() == 0
    assert 'Mine' in page.locator('label.q-field', has_text='Assigned').inner_text(), 'the filter shown is the one used'


def test_picking_rows_opens_the_actions_and_the_confirmation_counts_them(page, hub, database):  # noqa: F811
    for name in ('Ruth One', 'Ruth Two', 'Ruth Three'):
        insert(database, 'lobby-b', 'pal', name)
    sign_in(page, hub, 'pal@slmpd.org')
    page.get_by_text('Ruth One').wait_for()
    settle_hub(page)
    page.goto(hub.url + '/signups?kiosk=lobby-b')
    page.get_by_text('Ruth Three').wait_for()
    settle_hub(page)
    for name in ('Ruth One', 'Ruth Two'):
        page.get_by_role('row', name=name).get_by_role('checkbox').click()
    page.get_by_text('2 selected').wait_for()
    problems = serious_accessibility_problems(page, 'signups with actions')
    page.get_by_role('button', name='Change status').click()
    page.get_by_text('Change the status of 2 sign-ups to Contacted?').wait_for()
    page.wait_for_timeout(600)  # let the dialog finish fading in
    # With a Quasar dialog open, axe's colour check (seen here) takes the backdrop or the page for every button's
    # background, even the navy Show button's ("white on #f7f5f0, 1.08:1"), while the screen shows them as they
    # are. The rest of axe runs, and the dialog's buttons' contrast is read from their computed colours instead.
    problems += [problem for problem in serious_accessibility_problems(page, 'the confirmation')
                 if 'color-contrast' not in problem]
    for name in ('Cancel', 'Change 2'):
        colours = page.get_by_role('button', name=name).evaluate(
            'el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]')
        assert contrast(*colours) >= 4.5, (name, colours)
    page.get_by_role('button', name='Change 2').click()
    page.get_by_text('2 changed, 0 skipped').wait_for()
    assert problems == [], '\n'.join(problems)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT name FROM signups WHERE kiosk = 'lobby-b' AND status = 'contacted' ORDER BY name")\
            .fetchall() == [('Ruth One',), ('Ruth Two',)]


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two opaque `rgb(r, g, b)` colours."""
    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in colour[colour.index('(') + 1:colour.index(')')].split(',')[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
