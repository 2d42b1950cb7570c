"""Store fixtures: a private key space in the shared Redis (for the presence record kept there)."""

from tests.redis_space import redis_space as redis_space
