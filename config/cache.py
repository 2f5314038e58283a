"""Django's Redis cache with one client object per connection pool.

Django's `RedisCacheClient.get_client` builds a `redis.Redis` for every cache call; building one fills its table of
response callbacks (about 0.16 ms of CPU per call with redis-py 8), more than a GET on a local Redis takes. A KPI read
makes two cache calls (its rows, then storing them), a live poll one. The client holds no connection of its own (the
pool does, and a pool resets itself in a forked worker), so one per pool serves every thread and call.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ClientPerPool(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients_by_pool", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool
