//! Statements whose SQL text never changes, for the writes the DSL would have
//! prepared anew each time: diesel never caches a multi-row insert, an `UPDATE`, an
//! `ON CONFLICT DO UPDATE` or a `sql_query`, and diesel-async prepares every
//! uncached statement in a round trip of its own before running it, one at a time
//! even when statements are pipelined (item 12 of "What the runs showed" in
//! docs/benchmarks.md). diesel caches these by their text, as nothing in them says
//! otherwise, so each is prepared once per connection.

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;
use std::marker::PhantomData;

/// One bind parameter: a single value, or a column of rows as an array
/// (PostgreSQL only, for `unnest`).
pub(crate) enum Bind<'a> {
    Text(&'a str),
    BigInt(i64),
    Texts(Vec<&'a str>),
    OptionalTexts(Vec<Option<&'a str>>),
    BigInts(Vec<i64>),
    OptionalBigInts(Vec<Option<i64>>),
    Bools(Vec<bool>),
}

/// SQL text with `?` where each bind goes in turn. `Rows` is the SQL type of the rows
/// it returns (`RETURNING`), `()` when it returns none.
pub(crate) struct FixedShape<'a, Rows = ()> {
    sql: &'static str,
    binds: Vec<Bind<'a>>,
    rows: PhantomData<Rows>,
}

impl<'a> FixedShape<'a> {
    pub(crate) fn new(sql: &'static str, binds: Vec<Bind<'a>>) -> Self {
        Self { sql, binds, rows: PhantomData }
    }

    /// The same statement, returning rows of SQL type `Rows`.
    pub(crate) fn returning<Rows>(self) -> FixedShape<'a, Rows> {
        FixedShape { sql: self.sql, binds: self.binds, rows: PhantomData }
    }
}

impl<Rows> QueryId for FixedShape<'_, Rows> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Rows> Query for FixedShape<'_, Rows> {
    type SqlType = Rows;
}

fn mismatch() -> Error {
    Error::QueryBuilderError("placeholders and binds differ in number".into())
}

/// Writes `sql` with each `?` replaced by the next bind, which `push` pushes.
fn walk<'b, DB: Backend>(
    sql: &'static str,
    binds: &'b [Bind<'_>],
    mut out: AstPass<'_, 'b, DB>,
    push: impl Fn(&'b Bind<'_>, &mut AstPass<'_, 'b, DB>) -> QueryResult<()>,
) -> QueryResult<()> {
    let mut parts = sql.split('?');
    out.push_sql(parts.next().unwrap_or_default());
    let mut binds = binds.iter();
    for part in parts {
        push(binds.next().ok_or_else(mismatch)?, &mut out)?;
        out.push_sql(part);
    }
    match binds.next() {
        Some(_) => Err(mismatch()),
        None => Ok(()),
    }
}

impl<Rows> QueryFragment<Pg> for FixedShape<'_, Rows> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        walk(self.sql, &self.binds, out, |bind, out| match bind {
            Bind::Text(v) => out.push_bind_param::<Text, _>(v),
            Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
            Bind::Texts(v) => out.push_bind_param::<Array<Text>, _>(v),
            Bind::OptionalTexts(v) => out.push_bind_param::<Array<Nullable<Text>>, _>(v),
            Bind::BigInts(v) => out.push_bind_param::<Array<BigInt>, _>(v),
            Bind::OptionalBigInts(v) => out.push_bind_param::<Array<Nullable<BigInt>>, _>(v),
            Bind::Bools(v) => out.push_bind_param::<Array<Bool>, _>(v),
        })
    }
}

impl<Rows> QueryFragment<Sqlite> for FixedShape<'_, Rows> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        walk(self.sql, &self.binds, out, |bind, out| match bind {
            Bind::Text(v) => out.push_bind_param::<Text, _>(v),
            Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
            _ => Err(Error::QueryBuilderError("SQLite has no arrays to bind".into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::query_builder::QueryBuilder;

    fn build<DB: Backend>(
        statement: &FixedShape<'_>,
        mut builder: DB::QueryBuilder,
        backend: &DB,
    ) -> QueryResult<String>
    where
        for<'a> FixedShape<'a>: QueryFragment<DB>,
    {
        statement.to_sql(&mut builder, backend)?;
        Ok(builder.finish())
    }

    #[test]
    fn each_placeholder_becomes_the_backends_own() {
        let statement = FixedShape::new(
            "UPDATE t SET a = ? WHERE id = ? AND b < ?",
            vec![Bind::BigInt(1), Bind::Text("x"), Bind::BigInt(2)],
        );
        let pg = build(&statement, diesel::pg::PgQueryBuilder::default(), &Pg);
        let sqlite = build(&statement, diesel::sqlite::query_builder::SqliteQueryBuilder::new(), &Sqlite);
        assert_eq!(pg.ok().as_deref(), Some("UPDATE t SET a = $1 WHERE id = $2 AND b < $3"));
        assert_eq!(sqlite.ok().as_deref(), Some("UPDATE t SET a = ? WHERE id = ? AND b < ?"));
    }

    #[test]
    fn placeholders_and_binds_that_differ_in_number_are_an_error_not_a_wrong_statement() {
        let too_few = FixedShape::new("SELECT ?, ?", vec![Bind::BigInt(1)]);
        let too_many = FixedShape::new("SELECT ?", vec![Bind::BigInt(1), Bind::BigInt(2)]);
        for statement in [too_few, too_many] {
            let built = build(&statement, diesel::pg::PgQueryBuilder::default(), &Pg);
            assert!(built.is_err(), "built {built:?}");
        }
    }

    #[test]
    fn an_array_on_sqlite_is_an_error() {
        let statement = FixedShape::new("SELECT ?", vec![Bind::BigInts(vec![1])]);
        let built = build(&statement, diesel::sqlite::query_builder::SqliteQueryBuilder::new(), &Sqlite);
        assert!(built.is_err(), "built {built:?}");
    }
}
