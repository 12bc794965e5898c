"""Verified translations: which sentence of a staff-reviewed translation (or of a translated leaflet)
stands for which sentence of the original, and answers that show those sentences, labelled.

Nothing here translates: every translated sentence a patient reads was written by people, and it
is shown only when it can be matched confidently to the sentence the answer quotes; otherwise the
original is shown as written. The translations themselves live in the store
(chatbot/store/translations.py).
"""
