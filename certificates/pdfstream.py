"""Write a reportlab canvas's pages to a file as they are finished (constant memory).

Why: reportlab keeps every page of a document in memory until ``save()``
(page dictionaries and their content streams: measured ~13 KB of Python heap
per certificate page), so a 10,000-page print run would hold ~130 MB. A PDF, however, does not need to be
written in one go: objects can go out in any order as long as the cross-
reference table at the end lists where each one starts.

How: reportlab numbers objects as they are registered. After each
``showPage()`` we format every object registered since the last call (the page
and its content stream) with reportlab's own formatter, write it, remember its
byte offset, and drop it from reportlab's tables. Only three things wait for
the end, because they change until the last page: the font dictionary and the
embedded font subsets (they grow as new letters appear), and the page tree
(its list of pages). The page tree is replaced by a small object that keeps
just the page object numbers. At ``close()`` those are written, then the cross-
reference table and the trailer.

What remains per page is two array entries (8-byte offsets and a 4-byte page
number) -- the same information the PDF's own xref table holds.

One deliberate difference from ``save()``: page streams are only zlib-
compressed, not also ASCII85-encoded (reportlab's process-wide ``useA85``
default), which makes them 25% smaller and saves ~1 ms per page.

This relies on reportlab internals (``PDFDocument`` tables, pinned reportlab
version in requirements.txt); the tests render, reopen and check the output,
so an incompatible upgrade fails loudly rather than producing a broken file.
"""

from __future__ import annotations

from array import array
from typing import BinaryIO

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas


class _PageTree(pdfdoc.PDFObject):
    """Stands in for reportlab's PDFPages: remembers page object numbers, not pages."""

    __RefOnly__ = 1  # must be an indirect object, like the real one

    def __init__(self) -> None:
        self.kids = array("L")

    def addPage(self, page: object) -> None:  # noqa: N802 - reportlab's name
        """Called by reportlab for each new page; numbers are recorded when written."""

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        kids = b" ".join(b"%d 0 R" % number for number in self.kids)
        return b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (len(self.kids), kids)


class StreamingPdfWriter:
    """Streams the pages of ``canvas`` to ``out``; call after every showPage, then close()."""

    def __init__(self, canvas: Canvas, out: BinaryIO) -> None:
        doc = canvas._doc
        if doc.pageCounter != 1:
            raise ValueError("StreamingPdfWriter needs a fresh canvas")
        self._canvas = canvas
        self._doc = doc
        self._out = out
        self._position = 0
        self._offsets = array("Q", [0])  # index = object number; 0 = not written yet
        self._page_tree = _PageTree()
        doc.Pages = doc.Catalog.Pages = self._page_tree
        doc.Reference(self._page_tree)
        # Objects that keep changing until the last page: written by close().
        self._deferred_names = {"BasicFonts", self._page_tree.__InternalName__}
        self._deferred_numbers: list[int] = []
        self._next_number = 1
        self._pdf_version = doc._pdfVersion
        self._write(pdfdoc.PDFFile(doc._pdfVersion).format(doc))  # "%PDF-1.4" header

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)

    def _write_object(self, number: int) -> None:
        """Format object ``number`` with reportlab and write it."""
        doc = self._doc
        name = doc.numberToId[number]
        obj = doc.idToObject[name]
        if isinstance(obj, pdfdoc.PDFPage) and obj.Contents is None and obj.stream:
            # reportlab would also ASCII85-encode the page (rl_config.useA85, a
            # process-wide setting): 25% bigger and ~1 ms slower per page.
            obj.Contents = pdfdoc.PDFStream(content=obj.stream, filters=[pdfdoc.PDFZCompress])
        data = pdfdoc.PDFIndirectObject(name, obj).format(doc)  # may register new objects
        if len(self._offsets) <= number:
            self._offsets.extend([0] * (number + 1 - len(self._offsets)))
        self._offsets[number] = self._position
        self._write(data)
        if isinstance(obj, pdfdoc.PDFPage):
            self._page_tree.kids.append(number)
            contents = obj.Contents.__InternalName__  # registered while formatting the page
            self._write_object(doc.idToObjectNumberAndVersion[contents][0])
            self._forget(name)
            self._forget(contents)

    def _forget(self, name: str) -> None:
        """Drop a page or page content stream from reportlab's tables to free its memory.

        Only those two: nothing else refers to them once the page is written
        (the page tree keeps bare numbers). Other objects stay known to
        reportlab, as later pages or the fonts may refer to them.
        """
        doc = self._doc
        number = doc.idToObjectNumberAndVersion.pop(name)[0]
        doc.idToObject.pop(name)
        doc.numberToId.pop(number)

    def write_finished_pages(self) -> None:
        """Write everything registered since the last call, except the deferred objects."""
        doc = self._doc
        while self._next_number <= doc.objectcounter:  # formatting may register more
            number = self._next_number
            self._next_number += 1
            if number not in doc.numberToId:
                continue  # a page content stream, written and forgotten with its page
            if doc.numberToId[number] in self._deferred_names:
                self._deferred_numbers.append(number)
            else:
                self._write_object(number)

    def close(self, document_id: bytes) -> None:
        """Write fonts, page tree, catalog, info, xref and trailer (what ``save()`` would do)."""
        doc, canvas = self._doc, self._canvas
        if len(canvas._code):
            raise ValueError("the last page was drawn but not finished with showPage()")
        if not self._page_tree.kids and doc.pageCounter == 1:
            raise ValueError("no pages")
        self.write_finished_pages()
        # The same preparation as reportlab's PDFDocument.GetPDFData / format.
        for font in doc.delayedFonts:
            font.addObjects(doc)
        doc.info.invariant = doc.invariant
        root = doc.idToObjectNumberAndVersion[doc.Reference(doc.Catalog).name][0]
        info = doc.idToObjectNumberAndVersion[doc.Reference(doc.info).name][0]
        doc.Outlines.prepare(doc, canvas)
        if doc.Outlines.ready < 0:
            doc.Catalog.Outlines = None
        if doc._pdfVersion != self._pdf_version:
            raise ValueError("a feature raised the PDF version after the header was written")
        for number in self._deferred_numbers:
            self._write_object(number)
        self._deferred_names.clear()
        self.write_finished_pages()  # fonts, catalog, info and whatever they registered

        count = len(self._offsets)
        if count != doc.objectcounter + 1 or 0 in self._offsets[1:]:
            raise ValueError("an object was registered but never written")
        xref_position = self._position
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for start in range(1, count, 1024):
            self._write(b"".join(b"%010d 00000 n \n" % offset for offset in self._offsets[start:start + 1024]))
        self._write(b"trailer\n<< /ID %s /Info %d 0 R /Root %d 0 R /Size %d >>\nstartxref\n%d\n%%%%EOF\n"
                    % (document_id, info, root, count, xref_position))
