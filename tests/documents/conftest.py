"""The professional who follows the person whose documents the tests handle."""

import pytest
from django.test import Client

from tests.conftest import log_in
from tests.factories import MembershipFactory


@pytest.fixture
def referent():
    return MembershipFactory()


@pytest.fixture
def referent_client(referent):
    return log_in(Client(), referent.user, referent)
