"""One module per dataset layout written by ``cadence sample drums --layout NAME``.

Each module has ``TOP`` (the dataset's top folder as distributed, or ``""``) and
``write(out: LayoutWriter)``; :mod:`cadence.sample.layouts` lists them and says where each
layout comes from.
"""
