"""Pure logic of the guided exercises (values, voice check, dependency reflection).

Content loading and validation, matching typed answers with spaCy lemmas, scoring and the
assembly of reflections. Nothing here knows about Rasa or the journal's database: the actions in
``actions/`` call these functions and do the talking and the saving.
"""
