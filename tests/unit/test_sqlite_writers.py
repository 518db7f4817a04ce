"""Writers of one process queue on a lock on SQLite, and always give it back."""

import threading

import sqlalchemy as sa

from proctorhub.models import get_engine
from proctorhub.models.sqlite_writers import writer_queue

rows = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer))


def engine_for(tmp_path):
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'w.sqlite'}"})
    rows.metadata.create_all(engine)
    return engine


def queue_lock(engine):
    return writer_queue(engine).lock


def test_the_lock_is_given_back_after_commit_rollback_and_invalidation(tmp_path):
    engine = engine_for(tmp_path)
    lock = queue_lock(engine)
    with engine.begin() as connection:
        connection.execute(rows.insert().values(n=1))
        assert lock.locked()
    assert not lock.locked()
    with engine.connect() as connection:
        connection.execute(rows.insert().values(n=2))
        connection.rollback()
    assert not lock.locked()
    connection = engine.connect()
    connection.execute(rows.insert().values(n=3))
    connection.invalidate()
    connection.close()
    assert not lock.locked()
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(rows)).scalar_one() == 1
    engine.dispose()


def test_reads_do_not_take_the_lock(tmp_path):
    engine = engine_for(tmp_path)
    with engine.connect() as connection:
        connection.execute(sa.select(rows))
        assert not queue_lock(engine).locked()
    engine.dispose()


def test_threads_writing_at_once_all_succeed(tmp_path):
    engine = engine_for(tmp_path)
    errors = []

    def write(n):
        try:
            for i in range(20):
                with engine.begin() as connection:
                    connection.execute(rows.insert().values(n=n * 100 + i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(rows)).scalar_one() == 160
    assert not queue_lock(engine).locked()
    engine.dispose()
