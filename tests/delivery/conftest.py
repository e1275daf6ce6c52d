from tests.channels.conftest import fake_x, x_settings  # noqa: F401  (shared fixtures)
