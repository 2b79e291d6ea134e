import asyncio

from nicegui import ui
from nicegui.testing import User

from kiosk.qr import qr_svg


async def test_attract_screen_invites_in_both_languages_and_names_the_next_meeting(user: User):
    await user.open('/')
    await user.should_see('Touch to begin')
    await user.should_see('Toque para comenzar')
    await user.should_see('Police Athletic League (PAL) · Liga Atlética de la Policía (PAL)')
    await user.should_see('Next community meeting: ')
    await user.should_see('Próxima reunión comunitaria: ')


async def test_touching_spanish_begins_in_spanish_header_included(user: User):
    await user.open('/')
    user.find(marker='begin-es').click()
    await user.should_see('Programas comunitarios')
    await user.should_see('Liga Atlética de la Policía (PAL)')
    await user.should_not_see('Police Athletic League (PAL)')
    await user.should_see('Programas Comunitarios de SLMPD')  # the header, hidden on the attract screen, follows
    await user.should_see('Tamaño del texto')


async def test_home_shows_five_cards_and_a_card_opens_its_program(user: User):
    await user.open('/home')
    for slug in ('citizens-academy', 'police-explorers', 'hmca', 'pal', 'outreach'):
        await user.should_see(marker=f'card-{slug}')
    user.find(marker='card-citizens-academy').click()
    await user.should_see('One evening a week for 12 weeks, taught by officers.')
    await user.should_see('Scan with your phone camera to apply')
    user.find(marker='back').click()
    await user.should_see('Community programs')


async def test_language_switch_rerenders_the_current_program(user: User):
    await user.open('/program/pal')
    await user.should_see('Children ages 5 to 18.')
    user.find(marker='language-es').click()
    await user.should_see('Niños de 5 a 18 años.')
    await user.should_see('Escanee con la cámara de su teléfono para llamar')
    await user.should_not_see('Children ages 5 to 18.')
    user.find(marker='language-en').click()
    await user.should_see('Children ages 5 to 18.')


async def test_text_size_control_goes_to_150_percent(user: User):
    await user.open('/home')
    user.find(marker='text-size-150').click()
    frames = [el for el in user.find(ui.column).elements if 'kiosk' in el.classes]
    assert frames[0].style['--text-scale'] == '1.5'
    await user.should_see('Community programs')


async def test_hmca_leads_with_the_phone_number_in_large_type(user: User):
    await user.open('/program/hmca')
    await user.should_see('(314) 444-5371')
    assert len(user.find(marker='qr-phone').elements) == 1
    await user.should_not_see(marker='qr-url')


async def test_pal_offers_information_page_and_phone(user: User):
    await user.open('/program/pal')
    await user.should_see(marker='qr-url')
    await user.should_see(marker='qr-phone')
    await user.should_see('Scan with your phone camera for more information')
    svgs = [el.content for el in user.find(ui.html).elements]
    assert qr_svg('tel:+13144445967') in svgs
    assert qr_svg('http://www.slmpd.org/pal.shtml') in svgs


async def test_outreach_shows_next_meeting_three_more_and_a_calendar_code(user: User):
    await user.open('/program/outreach')
    await user.should_see(marker='next-meeting')
    assert len(user.find(marker='later-meeting').elements) == 3
    await user.should_see(marker='qr-calendar')
    await user.should_see('Scan with your phone camera to save the date')


async def test_unknown_program_goes_home(user: User):
    await user.open('/program/no-such-thing')
    await user.should_see('Community programs')


async def test_unknown_screen_is_calm_and_offers_home(user: User):
    await user.open('/home')
    user.navigate.to('/nowhere')
    await user.should_see('Sorry, we could not find that screen.')
    user.find('Home').click()
    await user.should_see('Community programs')


async def test_a_program_view_counts_once_per_visit_however_often_it_is_redrawn(user: User, isolated_settings):
    from kiosk.view_counts import ViewCounter

    await user.open('/program/pal')
    user.find(marker='language-es').click()
    await user.should_see('Niños de 5 a 18 años.')
    user.find(marker='back').click()
    await user.should_see(marker='card-pal')
    user.find(marker='card-pal').click()
    await user.should_see('Niños de 5 a 18 años.')
    await asyncio.sleep(0.3)  # views are written in the background
    assert [counts.get('pal') for counts in ViewCounter(isolated_settings).load().values()] == [1]
