//! Full-text search with filters, facets and keyset pages, on both engines:
//! PostgreSQL matches weighted `tsvector` columns (websearch syntax, the last
//! word as a prefix) and ranks with `ts_rank_cd`; SQLite matches FTS5 tables
//! (every word as a prefix, porter stemming) and ranks with `bm25`. Results
//! come back as ids in order; the caller loads the rows.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub key: f64,
    pub id: Uuid,
}

/// How results are ordered: by a numeric key (then id), or by id alone.
#[derive(Debug, Clone)]
pub enum Order {
    /// Newest first (ids are time-ordered UUIDv7).
    Newest,
    /// `expr` descending (or ascending), ties newest first.
    Key { expr: String, descending: bool },
}

/// A search being assembled over one table aliased `t`.
pub struct Search {
    backend: DbBackend,
    id: String,
    params: Vec<Value>,
    /// Common table expressions put before each statement.
    with: Vec<String>,
    from: String,
    conditions: Vec<String>,
    rank: Option<String>,
}

/// Lower-case words of letters and digits, at most 10.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(10)
        .collect()
}

impl Search {
    /// A search of `table` (aliased `t`) whose time-ordered key is `id_column`.
    pub fn new(backend: DbBackend, table: &str, id_column: &str) -> Self {
        Self {
            backend,
            id: format!("t.{id_column}"),
            params: Vec::new(),
            with: Vec::new(),
            from: format!("{table} t"),
            conditions: Vec::new(),
            rank: None,
        }
    }

    /// A placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.params.push(value.into());
        let n = self.params.len();
        match self.backend {
            DbBackend::Postgres => format!("${n}"),
            _ => format!("?{n}"),
        }
    }

    pub fn join(&mut self, join: &str) {
        self.from.push(' ');
        self.from.push_str(join);
    }

    pub fn condition(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// Matches `text` against the table's full-text index; `weights` are
    /// the FTS5 column weights (PostgreSQL's come from the tsvector).
    /// Returns false when `text` holds no words (nothing is filtered).
    pub fn keyword(&mut self, table: &str, weights: &[f64], text: &str) -> bool {
        let words = words(text);
        let Some((last, rest)) = words.split_last() else {
            return false;
        };
        if self.is_postgres() {
            let prefix = self.bind(format!("{last}:*"));
            let query = if rest.is_empty() {
                format!("to_tsquery('english', {prefix})")
            } else {
                let leading = self.bind(rest.join(" "));
                format!(
                    "(websearch_to_tsquery('english', {leading}) && to_tsquery('english', {prefix}))"
                )
            };
            self.condition(format!("t.search_vector @@ {query}"));
            self.rank = Some(format!("ts_rank_cd(t.search_vector, {query})"));
        } else {
            // The matches are computed once, first: joined row by row, FTS5
            // would run the whole query again for every candidate row.
            let fts = format!("{table}_fts");
            let expression = words
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" ");
            let matched = self.bind(expression);
            let weights = weights
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            self.with.push(format!(
                "m AS MATERIALIZED (SELECT rowid AS fts_rowid, -bm25({fts}, {weights}) AS fts_rank \
                 FROM {fts} WHERE {fts} MATCH {matched})"
            ));
            self.join("JOIN m ON m.fts_rowid = t.rowid");
            self.rank = Some("m.fts_rank".to_owned());
        }
        true
    }

    /// The relevance order, if a keyword was given.
    pub fn relevance(&self) -> Option<Order> {
        self.rank.clone().map(|expr| Order::Key {
            expr,
            descending: true,
        })
    }

    /// `WITH …` and `FROM … WHERE …` of every statement.
    fn body(&self) -> (String, String) {
        let with = if self.with.is_empty() {
            String::new()
        } else {
            format!("WITH {} ", self.with.join(", "))
        };
        let filter = if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        };
        (with, format!("{}{filter}", self.from))
    }

    fn as_real(&self, expr: &str) -> String {
        if self.is_postgres() {
            format!("CAST({expr} AS DOUBLE PRECISION)")
        } else {
            format!("CAST({expr} AS REAL)")
        }
    }

    /// A text form of a UUID column, the same on both engines.
    pub fn uuid_text(&self, column: &str) -> String {
        if self.is_postgres() {
            format!("replace(CAST({column} AS TEXT), '-', '')")
        } else {
            format!("lower(hex({column}))")
        }
    }

    /// One statement that finds the matches once, then answers a page of
    /// them (plus one row, to tell whether more follow) and the counts per
    /// value of each `(name, text expression)` facet.
    pub async fn run(
        &self,
        db: &impl ConnectionTrait,
        order: &Order,
        after: Option<Cursor>,
        limit: u64,
        facets: &[(&str, String)],
    ) -> Result<(Vec<Cursor>, Vec<(String, String, i64)>), DbErr> {
        let mut search = Search {
            backend: self.backend,
            id: self.id.clone(),
            params: self.params.clone(),
            with: self.with.clone(),
            from: self.from.clone(),
            conditions: self.conditions.clone(),
            rank: self.rank.clone(),
        };
        let (key, direction, compare) = match order {
            Order::Newest => ("0".to_owned(), "DESC", "<"),
            Order::Key {
                expr,
                descending: true,
            } => (search.as_real(expr), "DESC", "<"),
            Order::Key {
                expr,
                descending: false,
            } => (search.as_real(expr), "ASC", ">"),
        };
        let keyset = match after {
            None => String::new(),
            Some(after) => {
                let last_id = search.bind(after.id);
                match order {
                    Order::Newest => format!("WHERE id < {last_id}"),
                    Order::Key { .. } => {
                        let last = search.bind(after.key);
                        let last_again = search.bind(after.key);
                        format!(
                            "WHERE (sort_key {compare} {last} OR (sort_key = {last_again} AND id < {last_id}))"
                        )
                    }
                }
            }
        };
        let limit = search.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let (with, body) = search.body();
        let facet_columns: String = facets
            .iter()
            .enumerate()
            .map(|(i, (_, expr))| format!(", {expr} AS f{i}"))
            .collect();
        let mut matches = format!(
            "matches AS MATERIALIZED (SELECT {} AS id, {key} AS sort_key{facet_columns} FROM {body})",
            self.id
        );
        if with.is_empty() {
            matches = format!("WITH {matches}");
        } else {
            matches = format!("{with}, {matches}");
        }
        let mut sql = format!(
            "{matches} SELECT 0 AS part, id, sort_key, '' AS value, CAST(0 AS BIGINT) AS n \
             FROM (SELECT id, sort_key FROM matches {keyset} ORDER BY sort_key {direction}, id DESC LIMIT {limit}) page"
        );
        for i in 0..facets.len() {
            sql.push_str(&format!(
                " UNION ALL SELECT {}, NULL, NULL, f{i}, COUNT(*) FROM matches GROUP BY f{i}",
                i + 1
            ));
        }
        let rows = db.query_all_raw(self.statement(sql, search.params)).await?;
        let mut page = Vec::new();
        let mut counts = Vec::new();
        for row in &rows {
            let part: i64 = row
                .try_get::<i64>("", "part")
                .or_else(|_| row.try_get::<i32>("", "part").map(i64::from))?;
            if part == 0 {
                page.push(Cursor {
                    id: row.try_get("", "id")?,
                    key: row.try_get::<f64>("", "sort_key").unwrap_or(0.0),
                });
            } else if let Some((name, _)) =
                usize::try_from(part - 1).ok().and_then(|i| facets.get(i))
            {
                let value = row
                    .try_get::<Option<String>>("", "value")?
                    .unwrap_or_default();
                counts.push(((*name).to_owned(), value, row.try_get::<i64>("", "n")?));
            }
        }
        // UNION ALL keeps no order: sort the page as the query did.
        page.sort_by(|a, b| {
            let by_key = match order {
                Order::Newest => std::cmp::Ordering::Equal,
                Order::Key {
                    descending: true, ..
                } => b.key.total_cmp(&a.key),
                Order::Key {
                    descending: false, ..
                } => a.key.total_cmp(&b.key),
            };
            by_key.then(b.id.cmp(&a.id))
        });
        counts.sort_by_key(|count| std::cmp::Reverse(count.2));
        Ok((page, counts))
    }

    fn statement(&self, sql: String, params: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, params)
    }
}

/// A CASE expression putting `expr` into bands `[bounds[i], bounds[i+1])`,
/// labelled "lo-hi" (the last "lo-").
pub fn bands(expr: &str, bounds: &[i64]) -> String {
    let mut case = String::from("CASE");
    for window in bounds.windows(2) {
        case.push_str(&format!(
            " WHEN {expr} < {} THEN '{}-{}'",
            window[1], window[0], window[1]
        ));
    }
    let last = bounds.last().copied().unwrap_or(0);
    case.push_str(&format!(" ELSE '{last}-' END"));
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_case_alphanumerics() {
        assert_eq!(words("Rust, gRPC & \"api\"!"), ["rust", "grpc", "api"]);
        assert!(words("  -- ").is_empty());
    }

    #[test]
    fn bands_cover_every_value() {
        assert_eq!(
            bands("p", &[0, 10, 20]),
            "CASE WHEN p < 10 THEN '0-10' WHEN p < 20 THEN '10-20' ELSE '20-' END"
        );
    }
}
