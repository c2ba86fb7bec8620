"""The request scope reaches every thread that works for the request, by construction."""

from concurrent.futures import ThreadPoolExecutor

from khulasa_server.grpc import streams
from khulasa_server.scope import RequestScope, carry, current


def test_completion_order_work_runs_in_the_callers_scope():
    # The requests are read on a thread of its own: the work it submits must still see the
    # scope of the call that started the stream (its deadline, its cancellation), not the
    # empty default of a new thread.
    scope = RequestScope(deadline=None, request_id="stream-7")
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        def run():
            current.set(scope)
            return list(streams.completion_order(iter(range(5)), lambda n: (n, current.get().request_id),
                                                 pool, concurrency=2, is_active=lambda: True))

        answers = carry(run)()
    finally:
        pool.shutdown()
    assert sorted(answers) == [(n, "stream-7") for n in range(5)]
