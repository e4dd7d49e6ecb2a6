"""Stores Rasa plugs in by module path when several server processes share one conversation log.

``bot.stores.redis_lock.AtomicRedisLockStore`` is the lock store (``lock_store:`` in
endpoints.yml). Importing this package connects to nothing.
"""
