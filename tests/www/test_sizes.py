"""File sizes in the units French readers know, as the upload limit states them."""

import pytest

from relais.www.templatetags.sizes import file_size


@pytest.mark.parametrize(
    ("size", "said"),
    [
        (1, "1 octet"),
        (512, "512 octets"),
        (1023, "1023 octets"),
        (1024, "1 Ko"),
        (153_600, "150 Ko"),
        (1024 * 1024 - 1, "1024 Ko"),
        (1024 * 1024, "1,0 Mo"),
        (3 * 1024 * 1024 + 200_000, "3,2 Mo"),
        (20 * 1024 * 1024, "20,0 Mo"),
    ],
)
def test_it_says_a_size_in_octets_ko_and_mo(size, said):
    assert file_size(size) == said
