"""The SQLite journal's exit plans (`webhook.journal.exit_plans`), on its one connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from webhook.journal.exit_plans import (
    ACTIVE_INDEX,
    ENTRIES_WITHOUT_PLAN,
    PLAN_COLUMNS,
    PLAN_TABLE,
    ExitPlan,
    ExitPlanState,
    ExitPlanStore,
    plan_from,
    plan_row,
    update_statement,
    update_values,
)
from webhook.journal.group_commit import GroupCommitter
from webhook.journal.ids import first_id_at
from webhook.journal.records import NewSignal

EXIT_PLANS_SCHEMA = f"{PLAN_TABLE.format(collate='', real='REAL')};\n{ACTIVE_INDEX};\n"
_INSERT_PLAN = (f"INSERT INTO exit_plans ({PLAN_COLUMNS}) "  # noqa: S608 - constant text
                f"VALUES ({', '.join('?' * 19)})")
_UPDATE_PLAN = update_statement("?")
_SELECT = f"SELECT {PLAN_COLUMNS} FROM exit_plans"  # noqa: S608 - constant text


class SqliteExitPlans(ExitPlanStore):
    _writer: GroupCommitter

    def _insert_signals(self, connection: sqlite3.Connection, signals: Sequence[NewSignal]
                        ) -> None:
        raise NotImplementedError

    async def create_exit_plan(self, plan: ExitPlan) -> bool:
        row = plan_row(plan)

        def insert(connection: sqlite3.Connection) -> bool:
            return connection.execute(
                _INSERT_PLAN.replace("INSERT", "INSERT OR IGNORE", 1), row).rowcount == 1

        return await self._writer.run(insert)

    async def advance_exit_plan(self, plan: ExitPlan, children: Sequence[NewSignal] = ()
                                ) -> bool:
        values = update_values(plan)

        def advance(connection: sqlite3.Connection) -> bool:
            if connection.execute(_UPDATE_PLAN, values).rowcount != 1:
                return False
            self._insert_signals(connection, children)
            return True

        return await self._writer.run(advance)

    async def exit_plan(self, signal_id: str) -> ExitPlan | None:
        def read(connection: sqlite3.Connection) -> ExitPlan | None:
            row = connection.execute(f"{_SELECT} WHERE signal_id = ?", (signal_id,)).fetchone()
            return None if row is None else plan_from(row)

        return await self._writer.run(read)

    async def active_exit_plans(self) -> list[ExitPlan]:
        def read(connection: sqlite3.Connection) -> list[ExitPlan]:
            rows = connection.execute(f"{_SELECT} WHERE state = ? ORDER BY signal_id",
                                      (ExitPlanState.ACTIVE.value,)).fetchall()
            return [plan_from(row) for row in rows]

        return await self._writer.run(read)

    async def entries_without_plan(self, since: float, limit: int = 100) -> list[str]:
        query = ENTRIES_WITHOUT_PLAN.replace("PLACEHOLDER", "?")
        values = (first_id_at(since), limit)

        def read(connection: sqlite3.Connection) -> list[str]:
            return [row[0] for row in connection.execute(query, values).fetchall()]

        return await self._writer.run(read)
