from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.content import load_catalog
from kiosk.i18n import t
from kiosk.paths import ASSETS_DIR
from kiosk.signups import PAYLOAD_FIELDS, SignupInvalid, check_form, new_record, payload

PROGRAMS = load_catalog(ASSETS_DIR / 'programs.toml').by_slug
GOOD = {'name': 'Maria Gonzalez', 'phone': '(314) 555-0134', 'email': '', 'contact_method': 'phone', 'note': '',
        'consent': True}


def problems(slug: str, **changes) -> dict[str, str]:
    with pytest.raises(SignupInvalid) as invalid:
        check_form(PROGRAMS[slug], {**GOOD, **changes})
    return {field: key for field, (key, _) in invalid.value.problems.items()}


def test_a_plain_sign_up_is_accepted_and_the_phone_stored_as_e164():
    details = check_form(PROGRAMS['citizens-academy'], GOOD)
    assert details.phone == '+13145550134' and details.age is None


def test_name_and_consent_are_required_and_a_way_to_reach_them():
    assert problems('citizens-academy', name='  ', phone='', consent=False) == {
        'name': 'error_name_required', 'phone': 'error_need_contact', 'consent': 'error_consent'}


def test_the_chosen_method_must_have_its_detail():
    assert problems('outreach', email='maria@example.com', phone='', contact_method='text') == {
        'contact_method': 'error_method_needs_phone'}
    assert problems('outreach', contact_method='email') == {'contact_method': 'error_method_needs_email'}


def test_email_alone_is_enough_when_email_is_the_chosen_method():
    details = check_form(PROGRAMS['outreach'], {**GOOD, 'phone': '', 'email': 'maria@example.com',
                                                'contact_method': 'email'})
    assert details.email == 'maria@example.com'


@pytest.mark.parametrize('email', ['maria', 'maria@', '@example.com', 'maria@example', 'ma ria@example.com',
                                   'maria@exam_ple.com', '<script>@x.com'])
def test_implausible_emails_are_refused(email):
    assert problems('outreach', email=email)['email'] == 'error_email'


def test_pal_needs_the_childs_first_name_and_an_age_from_5_to_18():
    assert problems('pal', age='4') == {'participant_name': 'error_child_name_required', 'age': 'error_age_range'}
    details = check_form(PROGRAMS['pal'], {**GOOD, 'participant_name': 'Ana', 'age': '12'})
    assert (details.participant_name, details.age) == ('Ana', 12)


def test_explorers_refuses_ages_outside_14_to_20_with_the_reason():
    with pytest.raises(SignupInvalid) as invalid:
        check_form(PROGRAMS['police-explorers'], {**GOOD, 'age': '21'})
    key, values = invalid.value.problems['age']
    assert t(key, 'en', **values) == 'Sorry, this program is for ages 14 to 20.'
    assert t(key, 'es', **values) == 'Lo sentimos, este programa es para edades de 14 a 20 años.'


@pytest.mark.parametrize('age', ['twelve', '1.5', '-3', '١٢', '9999'])
def test_age_must_be_a_plain_number(age):
    assert problems('police-explorers', age=age)['age'] in ('error_age_number', 'error_age_range')


def test_control_characters_and_bidi_overrides_are_refused_but_accents_emoji_and_rtl_text_kept():
    assert problems('outreach', name='Maria\x00')['name'] == 'error_strange_characters'
    assert problems('outreach', name='Maria\u202eevil')['name'] == 'error_strange_characters'
    for name in ('José Ñúñez', 'Maria 🌻', 'مريم', "<script>alert(1)</script>"):
        assert check_form(PROGRAMS['outreach'], {**GOOD, 'name': name}).name == name


def test_a_pasted_10000_character_string_is_refused_calmly():
    assert problems('outreach', name='x' * 10_000)['name'] == 'error_too_long'
    assert problems('outreach', note='x' * 10_000)['note'] == 'error_too_long'


def test_a_new_record_is_queued_with_an_id_and_a_local_time():
    details = check_form(PROGRAMS['pal'], {**GOOD, 'participant_name': 'Ana', 'age': '9'})
    record = new_record(details, PROGRAMS['pal'], 'es', 'kiosk-1',
                        datetime(2026, 11, 26, 10, tzinfo=ZoneInfo('America/Chicago')))
    assert record['status'] == 'queued' and len(record['id']) == 36
    assert record['created_at'] == '2026-11-26T10:00:00-06:00'
    assert set(payload(record)) == set(PAYLOAD_FIELDS) and 'attempts' not in payload(record)


FORM_VALUES = st.one_of(st.text(max_size=300), st.none(), st.integers(), st.booleans())


@settings(max_examples=400, deadline=None)
@given(slug=st.sampled_from(sorted(PROGRAMS)), form=st.fixed_dictionaries({}, optional={
    'name': FORM_VALUES, 'participant_name': FORM_VALUES, 'phone': FORM_VALUES, 'email': FORM_VALUES,
    'contact_method': st.one_of(st.sampled_from(['phone', 'text', 'email', 'fax']), FORM_VALUES),
    'age': FORM_VALUES, 'note': FORM_VALUES, 'consent': FORM_VALUES}))
def test_fuzzed_forms_are_either_clean_records_or_named_problems(slug, form):
    program = PROGRAMS[slug]
    try:
        details = check_form(program, form)
    except SignupInvalid as invalid:
        for key, values in invalid.problems.values():
            assert t(key, 'en', **values) and t(key, 'es', **values)
        return
    assert 1 <= len(details.name) <= 100 and details.consent is True
    assert details.phone == '' or (details.phone.startswith('+1') and len(details.phone) == 12)
    assert details.phone or details.email
    if program.age:
        assert program.age.min <= details.age <= program.age.max
