"""What the tests need to know about a report's HTML, read with the standard library's parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "col", "area", "base"}
DRAWN = {"path", "rect", "line", "polyline", "polygon", "circle", "ellipse"}


@dataclass
class Figure:
    name: str
    svgs: list[list[str]] = field(default_factory=list)  # the tags inside each <svg>
    caption: str = ""


class Shape(HTMLParser):
    """Chart figures with their SVG contents; tags left open or closed out of turn."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: dict[str, Figure] = {}
        self.stack: list[str] = []
        self.mismatched: list[str] = []
        self.tags: list[str] = []
        self._figure: Figure | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "figure" and "chart" in (attributes.get("class") or "").split():
            self._figure = Figure(name=attributes.get("data-chart") or "")
            self.figures[self._figure.name] = self._figure
        elif self._figure is not None and tag == "svg":
            self._figure.svgs.append([])
        elif self._figure is not None and "svg" in self.stack and self._figure.svgs:
            self._figure.svgs[-1].append(tag)
        if tag == "figcaption":
            self._in_caption = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.mismatched.append(tag)
            return
        self.stack.pop()
        if tag == "figure":
            self._figure = None
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._in_caption and self._figure is not None:
            self._figure.caption += data


def shape_of(page: str) -> Shape:
    shape = Shape()
    shape.feed(page)
    shape.close()
    return shape
