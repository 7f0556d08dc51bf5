"""Story format readers used by :mod:`talecast.pipeline.reading`.

One module per kind of input (``text``, ``markup``, ``docx``, ``epub``, ``pdf``), plus
the shared pieces: ``common`` (limits, chapter tiling), ``archive`` (bounded ZIP and
guarded XML reading) and ``html`` (HTML to text blocks).
"""
