"""Real <h1>/<h2> elements, so screen readers and axe see the structure, with text that is never HTML."""

from nicegui.elements.mixins.text_element import TextElement


class Heading(TextElement):
    def __init__(self, text: str, level: int = 1) -> None:
        super().__init__(tag=f'h{level}', text=text)
