//! A service's migrated database on either backend, for tests that work on
//! the database itself rather than through a server (the books, the order
//! writers): PostgreSQL cloned from the template, or a SQLite file in a
//! temporary directory; dropped with the test.

use frevix_platform::db::{connect_and_migrate, sqlite_url};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;

use crate::{Backend, TestDatabase};

pub struct MigratedDb {
    pub db: DatabaseConnection,
    _postgres: Option<TestDatabase>,
    _sqlite: Option<tempfile::TempDir>,
}

impl MigratedDb {
    /// `service`'s database with the schema of `M`, on `backend`, with a
    /// pool of `connections` (one on SQLite, as Frevix runs it).
    pub async fn open<M: MigratorTrait>(
        backend: Backend,
        service: &str,
        connections: u32,
    ) -> MigratedDb {
        match backend {
            Backend::Postgres => {
                let database = TestDatabase::create::<M>(service).await;
                let db = connect_and_migrate::<M>(&database.url, connections)
                    .await
                    .unwrap();
                MigratedDb {
                    db,
                    _postgres: Some(database),
                    _sqlite: None,
                }
            }
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = sqlite_url(&dir.path().join(format!("{service}.db")));
                let db = connect_and_migrate::<M>(&url, 1).await.unwrap();
                MigratedDb {
                    db,
                    _postgres: None,
                    _sqlite: Some(dir),
                }
            }
        }
    }

    /// The single number `sql` answers (a `COUNT(*)`).
    pub async fn count(&self, sql: &str) -> i64 {
        self.db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap()
    }
}
