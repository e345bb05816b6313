import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from relais import crypto

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


@given(st.binary(max_size=512))
def test_it_decrypts_what_it_encrypts(plaintext):
    assert crypto.decrypt(
        crypto.encrypt(plaintext, associated_data=b"x"), associated_data=b"x"
    ) == (plaintext)


def test_it_refuses_a_tampered_value():
    sealed = bytearray(crypto.encrypt(b"1 85 05 78 006 084 91"))
    sealed[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(sealed))


def test_it_refuses_a_value_moved_to_another_record():
    sealed = crypto.encrypt(b"secret", associated_data=b"person-nir:1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, associated_data=b"person-nir:2")


def test_it_reads_old_values_after_a_new_key_is_added(settings):
    settings.RELAIS_ENCRYPTION_KEYS = f"old:{KEY_A}"
    sealed = crypto.encrypt(b"valeur")
    settings.RELAIS_ENCRYPTION_KEYS = f"new:{KEY_B},old:{KEY_A}"

    assert crypto.decrypt(sealed) == b"valeur"
    assert crypto.key_id_of(crypto.encrypt(b"valeur")) == "new"


@pytest.mark.parametrize("raw", ["", "sans-cle", "court:YWJj", f":{KEY_A}"])
def test_it_refuses_a_malformed_keyring(raw):
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keyring(raw)


def test_it_refuses_a_keyring_naming_one_key_twice():
    with pytest.raises(ImproperlyConfigured, match="« k1 » nomme deux clés"):
        crypto.parse_keyring(f"k1:{KEY_B},k1:{KEY_A}")


def test_it_gives_a_value_s_digests_under_every_key_the_current_first(settings):
    settings.RELAIS_ENCRYPTION_KEYS = f"old:{KEY_A}"
    under_old = crypto.lookup_digest("valeur", purpose="test")
    settings.RELAIS_ENCRYPTION_KEYS = f"new:{KEY_B},old:{KEY_A}"

    digests = crypto.lookup_digests("valeur", purpose="test")

    assert digests == [crypto.lookup_digest("valeur", purpose="test"), under_old]
    assert digests[0] != under_old


@pytest.mark.parametrize("damaged", [b"", b"\x05ab", b"\x02\xff\xfe" + b"0" * 40])
def test_a_damaged_value_is_a_decryption_error_and_under_no_current_key(damaged):
    with pytest.raises(crypto.DecryptionError, match="illisible"):
        crypto.key_id_of(damaged)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(damaged)
    assert not crypto.under_current_key(damaged)
