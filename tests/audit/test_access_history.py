"""What the person reads in « Qui a regardé mon dossier »: every act the history keeps
has its plain words."""

from relais.audit.models import ACCESS_HISTORY_ACTIONS
from relais.portability import words


def test_it_has_plain_words_for_every_act_of_the_history():
    assert set(ACCESS_HISTORY_ACTIONS) <= set(words.HISTORY_ACTIONS)
