"""lms tenants: the lms table; exams, lms tokens and reviewer courses belong to one lms

Everything that existed before tenants is given to one lms, ``default``: every exam (and so
every attempt), every ``lms`` API token, and every reviewer course (a reviewer's context ids
become (default, context) pairs in ``staff_course``).

Revision ID: 0005
Revises: 0008
"""

import datetime as dt
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import proctorhub.models.meta

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
DEFAULT_SLUG = "default"


def _defer_sqlite_foreign_keys():
    """Foreign keys checked at commit (see ``_rebuilt``). Call it after a write has begun the
    transaction: SQLite forgets the pragma when a transaction ends, and the driver begins one
    only at the first write."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


@contextmanager
def _rebuilt(table: str):
    """``batch_alter_table(table)``, keeping the rows that other tables' foreign keys point at.

    SQLite changes a table's constraints by copying it, dropping it and renaming the copy; the
    drop counts every row pointing at the table (attempts at exams) as a broken foreign key, and
    SQLite, which only counts, never takes that back. So the rows are set aside and the table
    emptied first (the broken keys counted, deferred to the commit), and the rows put back into
    the rebuilt table afterwards (which takes each of them back)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(f"CREATE TABLE _keep_{table} AS SELECT * FROM {table}")
        op.execute(f"DELETE FROM {table}")
    with op.batch_alter_table(table, schema=None) as batch_op:
        yield batch_op
    if sqlite:
        inspector = sa.inspect(op.get_bind())
        kept = {c["name"] for c in inspector.get_columns(f"_keep_{table}")}
        columns = ", ".join(c["name"] for c in inspector.get_columns(table) if c["name"] in kept)
        op.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _keep_{table}")
        op.execute(f"DROP TABLE _keep_{table}")


def upgrade():
    bind = op.get_bind()
    lms = op.create_table(
        "lms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("created_at", proctorhub.models.meta.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms")),
        sa.UniqueConstraint("slug", name=op.f("uq_lms_slug")),
    )
    now = dt.datetime.now(dt.UTC)
    bind.execute(sa.insert(lms).values(name="Default LMS", slug=DEFAULT_SLUG, created_at=now))
    default_id = bind.execute(sa.select(lms.c.id).where(lms.c.slug == DEFAULT_SLUG)).scalar_one()
    _defer_sqlite_foreign_keys()

    # Exams: every existing one belongs to the default lms; unique per (lms, context, resource link).
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lms_id", sa.Integer(), nullable=True))
    exam = sa.table("exam", sa.column("lms_id", sa.Integer()))
    bind.execute(sa.update(exam).values(lms_id=default_id))
    with _rebuilt("exam") as batch_op:
        batch_op.alter_column("lms_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_exam_lms_id_lms"), "lms", ["lms_id"], ["id"])
        batch_op.drop_constraint("uq_exam_context_resource_link", type_="unique")
        batch_op.create_unique_constraint("uq_exam_lms_context_resource_link",
                                          ["lms_id", "context_id", "resource_link_id"])

    # API tokens: an lms token belongs to one lms.
    with _rebuilt("api_token") as batch_op:
        batch_op.add_column(sa.Column("lms_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_api_token_lms_id_lms"), "lms", ["lms_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_api_token_lms_id"), ["lms_id"], unique=False)
    token = sa.table("api_token", sa.column("lms_id", sa.Integer()), sa.column("role", sa.String()))
    bind.execute(sa.update(token).where(token.c.role == "lms").values(lms_id=default_id))

    # Reviewer courses: (lms, context) pairs in a table of their own.
    staff = sa.table("staff_user", sa.column("id", sa.Integer()), sa.column("courses", JSON))
    pairs = {(staff_id, str(context_id)) for staff_id, courses in bind.execute(sa.select(staff.c.id, staff.c.courses))
             for context_id in (courses or ()) if isinstance(context_id, str | int)}
    with _rebuilt("staff_user") as batch_op:
        batch_op.drop_column("courses")
    staff_course = op.create_table(
        "staff_course",
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("lms_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["lms_id"], ["lms.id"], name=op.f("fk_staff_course_lms_id_lms")),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"],
                                name=op.f("fk_staff_course_staff_user_id_staff_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_user_id", "lms_id", "context_id", name=op.f("pk_staff_course")),
    )
    with op.batch_alter_table("staff_course", schema=None) as batch_op:
        batch_op.create_index("ix_staff_course_lms_context", ["lms_id", "context_id"], unique=False)
    if pairs:
        bind.execute(sa.insert(staff_course), [
            {"staff_user_id": staff_id, "lms_id": default_id, "context_id": context_id[:255]}
            for staff_id, context_id in sorted(pairs)])


def downgrade():
    bind = op.get_bind()
    # Courses go back to lists of context ids (which lms they were in is forgotten).
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("courses", JSON, nullable=True))
    staff = sa.table("staff_user", sa.column("id", sa.Integer()), sa.column("courses", JSON))
    staff_course = sa.table("staff_course", sa.column("staff_user_id", sa.Integer()),
                            sa.column("context_id", sa.String()))
    courses = {}
    for staff_id, context_id in bind.execute(sa.select(staff_course.c.staff_user_id, staff_course.c.context_id)):
        courses.setdefault(staff_id, set()).add(context_id)
    for staff_id in bind.execute(sa.select(staff.c.id)).scalars().all():
        bind.execute(sa.update(staff).where(staff.c.id == staff_id)
                     .values(courses=sorted(courses.get(staff_id, ()))))
    # (Also a write that begins the transaction, with no staff at all.)
    bind.execute(sa.update(staff).where(staff.c.courses.is_(None)).values(courses=[]))
    _defer_sqlite_foreign_keys()
    op.drop_table("staff_course")
    with _rebuilt("staff_user") as batch_op:
        batch_op.alter_column("courses", existing_type=JSON, nullable=False)

    with _rebuilt("api_token") as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_lms_id"))
        batch_op.drop_constraint(batch_op.f("fk_api_token_lms_id_lms"), type_="foreignkey")
        batch_op.drop_column("lms_id")

    # Fails if two lmss hold exams with the same context and resource link: they cannot merge.
    with _rebuilt("exam") as batch_op:
        batch_op.drop_constraint("uq_exam_lms_context_resource_link", type_="unique")
        batch_op.create_unique_constraint("uq_exam_context_resource_link", ["context_id", "resource_link_id"])
        batch_op.drop_constraint(batch_op.f("fk_exam_lms_id_lms"), type_="foreignkey")
        batch_op.drop_column("lms_id")
    op.drop_table("lms")
