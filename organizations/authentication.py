"""API token authentication that reads the token, its user and the user's role assignments in one query."""

from __future__ import annotations

from django.db import connections, router
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from core.scoping import remember_assignments

from .models import Organization, RoleAssignment, User


class TokenWithRolesAuthentication(TokenAuthentication):
    """DRF's token authentication, with the scoping rule's role assignments read in the same query.

    Every API request authenticates and then asks the scoping rule for the user's reach:
    through the ORM that is two statements to build and two round trips to the database,
    about a third of the web worker's CPU on a page of the member list. Here one prepared
    statement returns the user's row once per active assignment (or once with NULLs), so
    the reach needs no query of its own. Nothing is cached across requests: a deleted token,
    a deactivated user or a removed role takes effect on the very next request, as before.

    The assignments are those of organizations.selectors.role_assignments_of (the rule's
    registered source: assignments on active organisations); tests/organizations/
    test_authentication.py checks that both give the same pairs.
    """

    _sql: str | None = None
    _columns: list = []  # (table alias, field) of each selected column, in order

    @classmethod
    def _statement(cls, connection) -> str:
        if cls._sql is None:
            qn = connection.ops.quote_name
            token, user = Token._meta, User._meta
            ra, org = RoleAssignment._meta, Organization._meta
            columns = [("t", token.get_field("created"))]
            columns += [("u", f) for f in user.concrete_fields]
            columns += [("o", org.get_field("path")), ("ra", ra.get_field("role"))]
            select = ", ".join(f"{alias}.{qn(f.column)}" for alias, f in columns)
            col = lambda m, name: qn(m.get_field(name).column)  # noqa: E731
            cls._sql = (
                f"SELECT {select} FROM {qn(token.db_table)} t "
                f"JOIN {qn(user.db_table)} u ON u.{qn(user.pk.column)} = t.{col(token, 'user')} "
                f"LEFT JOIN ({qn(ra.db_table)} ra JOIN {qn(org.db_table)} o "
                f"ON o.{qn(org.pk.column)} = ra.{col(ra, 'organization')} AND o.{col(org, 'status')} = %s) "
                f"ON ra.{col(ra, 'user')} = u.{qn(user.pk.column)} "
                f"WHERE t.{qn(token.pk.column)} = %s"
            )
            cls._columns = columns
        return cls._sql

    @classmethod
    def _converted(cls, connection, row) -> list:
        """The row's values as the ORM would give them (SQLite returns datetimes as text)."""
        out = list(row)
        for i, (alias, field) in enumerate(cls._columns):
            expression = field.get_col(alias)
            for convert in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
                out[i] = convert(out[i], expression, connection)
        return out

    def authenticate_credentials(self, key):
        alias = router.db_for_read(Token)
        connection = connections[alias]
        sql = self._statement(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [Organization.Status.ACTIVE, key])
            rows = cursor.fetchall()
        if not rows:
            # DRF's own lookup and refusal (its message, in its catalog's languages).
            return super().authenticate_credentials(key)
        first = self._converted(connection, rows[0])
        user_fields = [f.attname for alias, f in self._columns if alias == "u"]
        user = User.from_db(alias, user_fields, first[1 : 1 + len(user_fields)])
        if not user.is_active:
            return super().authenticate_credentials(key)
        values = {"key": key, "user_id": user.pk, "created": first[0]}
        names = [f.attname for f in Token._meta.concrete_fields]
        token = Token.from_db(alias, names, [values[name] for name in names])
        token.user = user
        remember_assignments(user, [(row[-2], row[-1]) for row in rows if row[-1] is not None])
        return user, token
