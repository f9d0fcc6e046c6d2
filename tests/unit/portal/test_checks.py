"""The deploy check refuses the development secret key against real AWS."""

from orders.checks import production_secret_key


def test_the_development_key_is_refused_against_real_aws(settings):
    settings.AWS_ENDPOINT_URL = None
    settings.DEBUG = False
    settings.SECRET_KEY = settings.INSECURE_DEV_SECRET_KEY
    assert [e.id for e in production_secret_key(None)] == ["orders.E001"]


def test_a_real_key_or_the_emulator_passes(settings):
    settings.DEBUG = False
    settings.AWS_ENDPOINT_URL = None
    settings.SECRET_KEY = "a-long-random-production-value-0123456789-abcdefghijklmnop"
    assert production_secret_key(None) == []
    settings.SECRET_KEY = settings.INSECURE_DEV_SECRET_KEY
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:4566"
    assert production_secret_key(None) == []
