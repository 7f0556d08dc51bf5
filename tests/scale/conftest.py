"""Scale-out tests need the servers scripts/services.sh starts; they skip without
them."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import scale_env_or_none  # noqa: E402


@pytest.fixture
def scale_env():
    env = scale_env_or_none()
    if env is None:
        pytest.skip(
            "TALECAST_TEST_REDIS_URL, _DATABASE_URL and _S3_ENDPOINT_URL unset: "
            "run through scripts/test.sh, which starts the servers"
        )
    return env
