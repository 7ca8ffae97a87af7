//! A fresh PostgreSQL database per test, cloned from a template that holds
//! the service's migrated schema. The template is built once per schema
//! version (its name carries a hash of the migration names) under an
//! advisory lock, so parallel test processes share it safely.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;
use sha2::{Digest, Sha256};

/// Where tests find PostgreSQL; `make test` sets it.
pub fn admin_url() -> String {
    std::env::var("FREVIX_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("database url has a path");
    format!("{base}/{name}")
}

async fn connect_one(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.unwrap_or_else(|e| {
        panic!("cannot reach PostgreSQL at {url}: {e} (run scripts/test-services.sh)")
    })
}

/// A database dropped when the test ends.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Clones a fresh database for `service` with the schema of `M`.
    pub async fn create<M: MigratorTrait>(service: &str) -> TestDatabase {
        let names: Vec<String> = M::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        Self::create_with(service, &names, |db| {
            Box::pin(async move { M::up(db, None).await })
        })
        .await
    }

    /// Clones a fresh database for the registered service `entry`.
    pub async fn create_for(entry: &'static frevix::registry::ServiceEntry) -> TestDatabase {
        Self::create_with(entry.name(), &entry.migration_names(), |db| {
            entry.migrate(db)
        })
        .await
    }

    /// Clones a fresh database for `service` whose schema, named by its
    /// migrations, `migrate` applies.
    async fn create_with(
        service: &str,
        names: &[String],
        migrate: impl for<'a> FnOnce(
            &'a DatabaseConnection,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<(), sea_orm::DbErr>> + Send + 'a>,
        >,
    ) -> TestDatabase {
        let admin_url = admin_url();
        let digest = Sha256::digest(names.join(",").as_bytes());
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let template = format!("frevix_tpl_{service}_{hash}");

        let admin = connect_one(&admin_url).await;
        admin
            .execute_unprepared("SELECT pg_advisory_lock(727001)")
            .await
            .unwrap();
        let exists = admin
            .query_one_raw(Statement::from_sql_and_values(
                admin.get_database_backend(),
                "SELECT 1 FROM pg_database WHERE datname = $1",
                [template.clone().into()],
            ))
            .await
            .unwrap()
            .is_some();
        if !exists {
            let building = format!("{template}_building");
            admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
                ))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{building}\""))
                .await
                .unwrap();
            let db = connect_one(&with_database(&admin_url, &building)).await;
            migrate(&db).await.unwrap();
            db.close().await.unwrap();
            admin
                .execute_unprepared(&format!(
                    "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
                ))
                .await
                .unwrap();
        }
        let database =
            TestDatabase::new(&admin, admin_url, &format!("TEMPLATE \"{template}\"")).await;
        admin
            .execute_unprepared("SELECT pg_advisory_unlock(727001)")
            .await
            .unwrap();
        admin.close().await.unwrap();
        database
    }

    /// An empty database, for tests of migrating itself.
    pub async fn empty() -> TestDatabase {
        let admin_url = admin_url();
        let admin = connect_one(&admin_url).await;
        let database = TestDatabase::new(&admin, admin_url, "").await;
        admin.close().await.unwrap();
        database
    }

    /// `CREATE DATABASE <a new name> <options>`.
    async fn new(admin: &DatabaseConnection, admin_url: String, options: &str) -> TestDatabase {
        let name = format!("frevix_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\" {options}"))
            .await
            .unwrap();
        TestDatabase {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        crate::finish_in_thread(async move {
            let admin = connect_one(&admin_url).await;
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
            let _ = admin.close().await;
        });
    }
}
