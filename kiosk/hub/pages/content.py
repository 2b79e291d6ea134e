"""Content: what the kiosks say, edited at the hub. A form for every program field in English and Spanish, checked
by the kiosk's own model as it is typed; the one draft kept in the database; a preview of the kiosk's real screens;
the changes against the published version, and publishing with a release note (kiosk/hub/content.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nicegui import ui
from pydantic import ValidationError

from kiosk.content import Catalog
from kiosk.hub import content
from kiosk.hub.content import Draft, PublishError, current_draft, draft_diff, draft_problems, programs_toml
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen
from kiosk.hub.pages.preview import PATH as PREVIEW_PATH
from kiosk.hub.pages.preview import screen_paths
from kiosk.i18n import meeting_when
from kiosk.meetings import MeetingRule

LANGUAGE_NAMES = {'en': 'English', 'es': 'Spanish'}
KIOSK_SIZES = ((1280, 800), (800, 480))
PREVIEW_SCALE = 0.5
NEW_MEETINGS = {'months': '3,6,9,12', 'day': '2nd thu', 'hour': 19, 'minute': 0, 'timezone': 'America/Chicago',
                'duration_minutes': 60, 'summary_en': '', 'summary_es': '', 'location': ''}
NEW_AGE = {'min': 0, 'max': 120, 'participant': 'self'}
NEW_PROGRAM = {'slug': 'new-program', 'signup': True,
               'en': {'title': '', 'summary': '', 'body': '', 'facts': []},
               'es': {'title': '', 'summary': '', 'body': '', 'facts': []}}

Loc = tuple


def register(hub: Hub) -> None:
    screen(hub, '/content')(lambda session: _screen(hub, session))


async def _screen(hub: Hub, session: Session) -> None:
    async with hub.pool.connection() as conn:
        start = await current_draft(conn)
    ContentForm(hub, session, start).show()


class ContentForm:
    """The page's state: the draft being edited (`data`, as the programs file holds it) and the fields showing it."""

    def __init__(self, hub: Hub, session: Session, start: Draft) -> None:
        self.hub = hub
        self.session = session
        self.start = start
        self.data: dict[str, Any] = start.data
        self.fields: dict[Loc, Any] = {}  # location of a value -> the element that shows its problems
        self.meeting_dates: dict[int, ui.label] = {}
        self.put_aside: dict[tuple[int, str], dict | None] = {}  # age limits or meetings turned off on this page
        self.unsaved = False

    # -- the page ----------------------------------------------------------------------------------------------

    def show(self) -> None:
        with ui.column().classes('hub-content w-full gap-4'):
            self._show()

    def _show(self) -> None:
        self.status = ui.label().props('role=status').mark('draft-status')
        self._status()
        ui.label('Each field is checked as you type, by the same rules `kiosk check` applies on a kiosk; a problem '
                 'shows under its field. A draft with problems can be saved, but not published.')
        self.summary = ui.label().classes('hub-error').props('role=alert').mark('problems')
        self.form()
        with ui.row().classes('gap-4 items-center'):
            ui.button('Save draft', on_click=self.save).props('no-caps').mark('save-draft')
            ui.button('Add a program', on_click=self.add_program).props('no-caps outline').mark('add-program')
        ui.html('<h2>Preview</h2>')
        self.preview_area()
        ui.html('<h2>Publish</h2>')
        self.publish_area()
        self.check()

    def _status(self) -> None:
        published = f'version {self.start.published_version}' if self.start.published_version else \
            'the factory content (nothing published yet)'
        if self.start.saved_by:
            saved = self.start.saved_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')
            text = f'Draft saved by {self.start.saved_by} at {saved}. The kiosks show {published}.'
        else:
            text = f'No draft saved yet: this is {published}, as the kiosks show it.'
        self.status.text = text + (' You have unsaved changes.' if self.unsaved else '')

    @ui.refreshable_method
    def form(self) -> None:
        self.fields = {}
        self.meeting_dates = {}
        with ui.card().classes('w-full'):
            ui.html('<h2>Department</h2>')
            department = self.data.setdefault('department', {})
            self.text(department, 'phone', ('department', 'phone'), 'Main non-emergency phone (the night screen)',
                      optional=True, mark='department-phone')
        for index, program in enumerate(self.data.get('program') or []):
            self.program_card(index, program)
        self.fields[()] = self.summary

    def program_card(self, index: int, program: dict) -> None:
        at: Loc = ('program', index)
        title = (program.get('en') or {}).get('title') or program.get('slug') or f'Program {index + 1}'
        with ui.card().classes('w-full').mark(f'program-{index}'):
            ui.html(f'<h2 id="program-{index}">{_escape(title)}</h2>')
            with ui.row().classes('gap-4 w-full'):
                self.text(program, 'slug', (*at, 'slug'), 'Short name in addresses (slug)', mark=f'slug-{index}')
                self.text(program, 'phone', (*at, 'phone'), 'Phone', optional=True, mark=f'phone-{index}')
                self.text(program, 'url', (*at, 'url'), 'Web page (https://)', optional=True, mark=f'url-{index}')
                self.choice(program, 'url_purpose', (*at, 'url_purpose'), 'The web page is for',
                            {'apply': 'applying', 'info': 'more information'}, 'apply')
            with ui.row().classes('gap-4'):
                self.switch(program, 'signup', 'Sign-up form on the kiosk', True, mark=f'signup-{index}')
                self.switch(program, 'call_first', 'Call first (the phone number is the main action)', False)
                self.switch(program, 'count_views', 'Count anonymous screen views', True)
            self.optional_group(program, 'age', NEW_AGE, 'Age limits', index, self.age_fields)
            with ui.row().classes('gap-6 w-full no-wrap'):
                for language in ('en', 'es'):
                    with ui.column().classes('col gap-1 hub-words').props(f'lang={language}'):
                        self.words(program.setdefault(language, {}), (*at, language), language, index)
            self.optional_group(program, 'meetings', NEW_MEETINGS, 'Meetings (announced on the attract screen)',
                                index, self.meeting_fields)
            ui.button('Remove this program', on_click=lambda: self.remove_program(index)) \
                .props('no-caps flat').mark(f'remove-{index}')

    def words(self, words: dict, at: Loc, language: str, index: int) -> None:
        name = LANGUAGE_NAMES[language]
        ui.html(f'<h3>{name}</h3>')
        self.text(words, 'title', (*at, 'title'), f'Title ({name})', mark=f'{language}-title-{index}')
        self.text(words, 'summary', (*at, 'summary'), f'Summary, on the card ({name}, 200 characters at most)',
                  mark=f'{language}-summary-{index}')
        self.text(words, 'body', (*at, 'body'), f'Full text ({name})', textarea=True, mark=f'{language}-body-{index}')
        self.text(words, 'facts', (*at, 'facts'), f'Key facts ({name}), one a line', textarea=True, lines=True,
                  mark=f'{language}-facts-{index}')

    def age_fields(self, age: dict, at: Loc, index: int) -> None:
        with ui.row().classes('gap-4'):
            self.number(age, 'min', (*at, 'min'), 'Youngest age', mark=f'age-min-{index}')
            self.number(age, 'max', (*at, 'max'), 'Oldest age', mark=f'age-max-{index}')
            self.choice(age, 'participant', (*at, 'participant'), 'The form asks the age of',
                        {'self': 'the person signing up', 'child': 'a child (and their first name)'}, 'self')

    def meeting_fields(self, meetings: dict, at: Loc, index: int) -> None:
        with ui.row().classes('gap-4'):
            self.text(meetings, 'months', (*at, 'months'), 'Months (1-12, e.g. 3,6,9,12)', mark=f'months-{index}')
            self.text(meetings, 'day', (*at, 'day'), 'Day (e.g. 2nd thu, last fri, 15)', mark=f'day-{index}')
            self.number(meetings, 'hour', (*at, 'hour'), 'Hour (0-23)', mark=f'hour-{index}')
            self.number(meetings, 'minute', (*at, 'minute'), 'Minute')
            self.number(meetings, 'duration_minutes', (*at, 'duration_minutes'), 'Length in minutes')
            self.text(meetings, 'timezone', (*at, 'timezone'), 'Time zone')
        self.text(meetings, 'location', (*at, 'location'), 'Where', mark=f'location-{index}')
        with ui.row().classes('gap-4 w-full no-wrap'):
            self.text(meetings, 'summary_en', (*at, 'summary_en'), 'What it is called (English)')
            self.text(meetings, 'summary_es', (*at, 'summary_es'), 'What it is called (Spanish)')
        self.meeting_dates[index] = ui.label().props('role=status').mark(f'meeting-dates-{index}')

    def optional_group(self, program: dict, key: str, template: dict, label: str, index: int,
                       fields: Callable[[dict, Loc, int], None]) -> None:
        at: Loc = ('program', index, key)

        def turn(on: bool) -> None:
            if on:  # back as it was when turned off on this page, else a starting point
                program[key] = self.put_aside.pop((index, key), None) or copy.deepcopy(template)
            else:
                self.put_aside[(index, key)] = program.pop(key, None)
            self.changed()
            self.form.refresh()

        with ui.column().classes('w-full gap-1'):
            ui.switch(label, value=key in program, on_change=lambda event: turn(event.value)) \
                .mark(f'{key}-{index}-on')
            self.fields[at] = ui.label().classes('hub-error').props('role=alert')
            if key in program:
                fields(program[key], at, index)

    # -- fields: each writes its value into `data` and checks the whole draft -----------------------------------

    def text(self, holder: dict, key: str, loc: Loc, label: str, *, optional: bool = False, textarea: bool = False,
             lines: bool = False, mark: str | None = None) -> None:
        value = holder.get(key)
        shown = '\n'.join(value) if lines and isinstance(value, list) else ('' if value is None else str(value))

        def write(event: Any) -> None:
            text = event.value or ''
            if lines:
                holder[key] = [line.strip() for line in text.splitlines() if line.strip()]
            elif optional and not text.strip():
                holder.pop(key, None)
            else:
                holder[key] = text
            self.changed()

        element = (ui.textarea if textarea else ui.input)(label, value=shown, on_change=write) \
            .props('outlined autogrow' if textarea else 'outlined').classes('w-full' if textarea else 'hub-field')
        self._field(element, loc, mark)

    def number(self, holder: dict, key: str, loc: Loc, label: str, *, mark: str | None = None) -> None:
        def write(event: Any) -> None:
            if event.value is None:
                holder.pop(key, None)
            else:
                holder[key] = int(event.value) if float(event.value).is_integer() else event.value
            self.changed()

        element = ui.number(label, value=holder.get(key), on_change=write).props('outlined').classes('hub-number')
        self._field(element, loc, mark)

    def choice(self, holder: dict, key: str, loc: Loc, label: str, options: dict[str, str], default: str) -> None:
        def write(event: Any) -> None:
            holder[key] = event.value
            self.changed()

        element = ui.select(options, value=holder.get(key, default), label=label, on_change=write) \
            .props('outlined').classes('min-w-[14rem]')
        self._field(element, loc, None)

    def switch(self, holder: dict, key: str, label: str, default: bool, *, mark: str | None = None) -> None:
        def write(event: Any) -> None:
            holder[key] = bool(event.value)
            self.changed()

        element = ui.switch(label, value=holder.get(key, default), on_change=write)
        if mark:
            element.mark(mark)

    def _field(self, element: Any, loc: Loc, mark: str | None) -> None:
        self.fields[loc] = element.without_auto_validation()  # its error is the draft's check, set in check()
        if mark:
            element.mark(mark)

    # -- checking ----------------------------------------------------------------------------------------------

    def changed(self) -> None:
        self.unsaved = True
        self._status()
        self.check()

    def check(self) -> dict[Loc, list[str]]:
        """Every problem under its field (or the nearest group that has one); the count at the top."""
        problems = draft_problems(self.data)
        shown: dict[Loc, list[str]] = {}
        for loc, messages in problems.items():
            where = next(loc[:end] for end in range(len(loc), -1, -1) if loc[:end] in self.fields)
            prefix = '' if where == loc else f'{".".join(str(part) for part in loc[len(where):])}: '
            shown.setdefault(where, []).extend(prefix + message for message in messages)
        for loc, element in self.fields.items():
            message = '; '.join(shown.get(loc, [])) or None
            if isinstance(element, ui.label):
                element.text = message or ''
            elif element.error != message:
                element.error = message
        self.summary.text = f'{len(problems)} problem(s) to fix before this draft can be published.' if problems \
            else ''
        self._meeting_dates()
        self._diff()
        return problems

    def _diff(self) -> None:
        if hasattr(self, 'diff'):  # drawn below the form, after the first check
            draft = Draft(programs_toml(self.data), self.start.published, self.start.published_version)
            self.diff.text = draft_diff(draft) or 'No change from the published version.'

    def _meeting_dates(self) -> None:
        now = datetime.now(UTC)
        for index, label in self.meeting_dates.items():
            try:
                rule = MeetingRule.model_validate(self.data['program'][index]['meetings'])
            except (ValidationError, KeyError, IndexError, TypeError):
                label.text = 'The next four dates show once the rule is complete.'
                continue
            dates = rule.next_meetings(now, 4)
            label.text = 'Next four: ' + ('; '.join(meeting_when(start, 'en') for start in dates) or 'none')

    # -- saving, preview, publishing ---------------------------------------------------------------------------

    async def save(self) -> bool:
        if not await self.session.renew() or not self.session.viewer.publishes:
            return False
        async with self.hub.pool.connection() as conn:
            await content.save_draft(conn, self.data, self.session.viewer.email)
            self.start = await current_draft(conn)
        self.unsaved = False
        self._status()
        self.reload_previews()
        ui.notify('Draft saved.')
        return True

    def add_program(self) -> None:
        self.data.setdefault('program', []).append(copy.deepcopy(NEW_PROGRAM))
        self.changed()
        self.form.refresh()
        self.check()

    def remove_program(self, index: int) -> None:
        del self.data['program'][index]
        self.put_aside.clear()  # its keys are positions, which just moved
        self.changed()
        self.form.refresh()
        self.check()

    def preview_area(self) -> None:
        ui.label('The kiosk\'s own screens, made from the saved draft by the kiosk\'s own code, at the sizes of its '
                 'two panels. Save the draft to see your changes here. Nothing sent from a preview is kept.')
        self.preview_choice = {'screen': '/', 'lang': 'en'}
        with ui.row().classes('gap-4 items-center'):
            self.screen_select = ui.select(self._screens(), value='/', label='Screen to preview',
                                           on_change=lambda event: self._show_preview(screen=event.value)) \
                .props('outlined').classes('min-w-[18rem]').mark('preview-screen')
            ui.select({'en': 'English', 'es': 'Spanish'}, value='en', label='Preview language',
                      on_change=lambda event: self._show_preview(lang=event.value)) \
                .props('outlined').classes('min-w-[10rem]').mark('preview-language')
        self.frames: list[ui.element] = []
        with ui.row().classes('gap-6 items-start'):
            for width, height in KIOSK_SIZES:
                with ui.column().classes('gap-1'):
                    ui.label(f'{width} × {height}')
                    box = f'width: {width * PREVIEW_SCALE}px; height: {height * PREVIEW_SCALE}px'
                    with ui.element('div').style(f'{box}; overflow: hidden; border: 1px solid #555'):
                        frame = ui.element('iframe').props(f'title="Kiosk preview, {width} by {height}"') \
                            .style(f'width: {width}px; height: {height}px; border: 0; transform: '
                                   f'scale({PREVIEW_SCALE}); transform-origin: 0 0').mark(f'preview-{width}x{height}')
                        self.frames.append(frame)
        self._show_preview()

    def _screens(self) -> dict[str, str]:
        try:
            return screen_paths(Catalog.model_validate(self.start.data))
        except ValidationError:
            return {'/': 'Attract (what a passer-by sees)', '/home': 'Home (the program cards)'}

    def _show_preview(self, **choice: str) -> None:
        self.preview_choice.update(choice)
        self.reload_previews()

    def reload_previews(self) -> None:
        self.screen_select.set_options(self._screens(), value=self.preview_choice['screen']
                                       if self.preview_choice['screen'] in self._screens() else '/')
        stamp = int(self.start.saved_at.timestamp()) if self.start.saved_at else 0
        for frame in self.frames:
            frame.props(f'src="{PREVIEW_PATH}?screen={self.preview_choice["screen"]}&lang={self.preview_choice["lang"]}'
                        f'&saved={stamp}"')

    def publish_area(self) -> None:
        ui.label('What changes for the kiosks: the published programs file against this draft (both written the same '
                 'way, so only what they say is compared).')
        self.diff = ui.label().classes('hub-diff').props('tabindex=0 aria-label="Changes"').mark('diff')
        self.note = ui.textarea('Release note: what changed, for the audit log and the other publishers') \
            .props('outlined maxlength=500').classes('w-full').mark('note')
        ui.button('Publish', on_click=self.publish).props('no-caps').mark('publish')
        self.outcome = ui.label().props('role=status').mark('publish-outcome')

    async def publish(self) -> None:
        if self.check():
            self.outcome.text = 'Not published: the draft has problems (shown under their fields).'
            return
        if not (self.note.value or '').strip():
            self.note.error = 'A release note is required: say what changed.'
            self.outcome.text = 'Not published: a release note is required.'
            return
        self.note.error = None
        if not await self.save():
            return
        try:
            key = content.read_signing_key(self.hub.settings.signing_key_file)
            async with self.hub.pool.connection() as conn:
                version, _ = await content.publish_draft(conn, key, note=self.note.value,
                                                         published_by=self.session.viewer.email,
                                                         soak_minutes=self.hub.settings.rollout_soak_minutes,
                                                         expected=programs_toml(self.data))
                self.start = await current_draft(conn)
        except PublishError as error:
            self.outcome.text = f'Not published: {error}'
            return
        self.data = self.start.data
        self.note.value = ''
        self.unsaved = False
        self._status()
        self.form.refresh()
        self.check()
        self.outcome.text = f'Published as version {version}: the kiosks take it at their next poll.'


def _escape(text: str) -> str:
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
