"""The PostgreSQL journal's exit plans (`webhook.journal.exit_plans`), on pooled connections."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import psycopg

from webhook.journal.exit_plans import (
    ENTRIES_WITHOUT_PLAN,
    PLAN_COLUMNS,
    ExitPlan,
    ExitPlanState,
    ExitPlanStore,
    plan_from,
    plan_row,
    update_statement,
    update_values,
)
from webhook.journal.ids import first_id_at
from webhook.journal.postgres_schema import storable
from webhook.journal.records import NewSignal

Connection = psycopg.AsyncConnection[tuple[Any, ...]]
_INSERT_PLAN = (f"INSERT INTO exit_plans ({PLAN_COLUMNS}) "  # noqa: S608 - constant text
                f"VALUES ({', '.join(['%s'] * 19)}) ON CONFLICT (signal_id) DO NOTHING")
_UPDATE_PLAN = update_statement("%s")
_SELECT = f"SELECT {PLAN_COLUMNS} FROM exit_plans"  # noqa: S608 - constant text


class PostgresExitPlans(ExitPlanStore):
    def _connection(self) -> AbstractAsyncContextManager[Connection]:
        raise NotImplementedError

    def _transaction(self) -> AbstractAsyncContextManager[Connection]:
        raise NotImplementedError

    async def _insert_signals(self, connection: Connection, signals: Sequence[NewSignal]
                              ) -> None:
        raise NotImplementedError

    async def create_exit_plan(self, plan: ExitPlan) -> bool:
        row = tuple(storable(v) if isinstance(v, str) else v for v in plan_row(plan))
        async with self._connection() as connection:
            cursor = await connection.execute(_INSERT_PLAN, row)
        return cursor.rowcount == 1

    async def advance_exit_plan(self, plan: ExitPlan, children: Sequence[NewSignal] = ()
                                ) -> bool:
        async with self._transaction() as connection:
            cursor = await connection.execute(_UPDATE_PLAN, update_values(plan))
            if cursor.rowcount != 1:
                return False
            await self._insert_signals(connection, children)
        return True

    async def exit_plan(self, signal_id: str) -> ExitPlan | None:
        async with self._connection() as connection:
            row = await (await connection.execute(
                f"{_SELECT} WHERE signal_id = %s", (storable(signal_id),))).fetchone()
        return None if row is None else plan_from(row)

    async def active_exit_plans(self) -> list[ExitPlan]:
        async with self._connection() as connection:
            rows = await (await connection.execute(
                f"{_SELECT} WHERE state = %s ORDER BY signal_id",
                (ExitPlanState.ACTIVE.value,))).fetchall()
        return [plan_from(row) for row in rows]

    async def entries_without_plan(self, since: float, limit: int = 100) -> list[str]:
        query = ENTRIES_WITHOUT_PLAN.replace("%", "%%").replace("PLACEHOLDER", "%s")
        async with self._connection() as connection:
            rows = await (await connection.execute(query, (first_id_at(since), limit))).fetchall()
        return [row[0] for row in rows]

