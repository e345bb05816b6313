import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from relais.accounts.models import AttemptCounter
from relais.accounts.throttling import count_in_window, login_attempt, login_succeeded

pytestmark = pytest.mark.django_db


def test_it_counts_events_in_one_window():
    assert [count_in_window("k", 60) for _ in range(3)] == [1, 2, 3]


def test_it_starts_a_new_window_once_the_first_has_passed():
    count_in_window("k", 60)
    count_in_window("k", 60)
    AttemptCounter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert count_in_window("k", 60) == 1


def test_it_deletes_the_counters_whose_window_has_passed_when_a_window_starts():
    count_in_window("ancien", 60)
    count_in_window("actuel", 60)
    AttemptCounter.objects.filter(key="ancien").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    count_in_window("nouveau", 60)

    assert set(AttemptCounter.objects.values_list("key", flat=True)) == {"actuel", "nouveau"}


def test_it_gives_back_a_refused_attempt(settings):
    settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT = 2
    answers = [login_attempt(identifier="a@exemple.test", ip_address="192.0.2.1") for _ in range(4)]

    assert [(a.allowed, a.last) for a in answers] == [
        (True, False),
        (True, True),
        (False, False),
        (False, False),
    ]
    assert sorted(AttemptCounter.objects.values_list("count", flat=True)) == [2, 2]


def test_it_forgets_the_account_and_gives_back_the_address_on_success():
    login_attempt(identifier="a@exemple.test", ip_address="192.0.2.1")
    login_attempt(identifier="b@exemple.test", ip_address="192.0.2.1")

    login_succeeded(identifier="b@exemple.test", ip_address="192.0.2.1")

    assert sorted(AttemptCounter.objects.values_list("count", flat=True)) == [1, 1]


@pytest.mark.postgresql
@pytest.mark.usefixtures("transactional_db")
@pytest.mark.django_db(transaction=True)
def test_it_counts_each_of_simultaneous_events_once_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL seulement (DATABASE_URL=postgres://…)")
    threads = 12
    start = threading.Barrier(threads)
    counts: list[int] = []

    def count() -> None:
        try:
            start.wait()
            counts.append(count_in_window("k", 60))
        finally:
            connection.close()

    workers = [threading.Thread(target=count) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert sorted(counts) == list(range(1, threads + 1))
