"""Progress pictures (issue 19): small PNG charts drawn from the journal on each request.

``history`` turns journal rows into the series a picture shows, ``charts`` draws them with
matplotlib's Agg backend (no pyplot, no global state), ``pictures`` pairs each drawing with its
one-line summary and alt text from ``data/progress/texts.yml``. Nothing here reads the database
or keeps a picture: ``actions/progress.py`` reads the journal and sends what these return.
"""
